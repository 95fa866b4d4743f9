"""The OpenID Connect claims this site issues to the hub and other relying parties.

Here, beside the course roles, because `groups` (the claim the hub acts on) is made of them.
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from .roles import claim_groups


class StudioOIDCValidator(OAuth2Validator):
    """Adds profile, e-mail and the `groups` claim (course roles) to id_token and userinfo."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "groups"}

    def get_additional_claims(self, request) -> dict:
        user = request.user
        return {
            "preferred_username": user.username,
            "name": user.display_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "email_verified": user.email_verified,
            "groups": claim_groups(user),
        }
