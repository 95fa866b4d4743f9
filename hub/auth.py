"""Sign-in through the Wagtail site: the hub is an OpenID Connect client of the site.

The site (cms/) is the identity provider. The hub uses OAuthenticator's
GenericOAuthenticator against it; this module adds only what the stock class lacks for
"logging out of the hub logs out of the site" without a confirmation page: the hub sends
the id_token it received as ``id_token_hint`` to the site's RP-initiated logout endpoint
(OpenID Connect RP-Initiated Logout 1.0), which the site trusts to skip its question.
"""

from __future__ import annotations

from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthLogoutHandler
from tornado.httputil import url_concat


class SiteLogoutHandler(OAuthLogoutHandler):
    """Hub logout, then the site's logout with the user's id_token as the hint."""

    async def get(self):
        self._id_token_hint = None
        user = self.current_user
        if user is not None:
            auth_state = await user.get_auth_state() or {}
            self._id_token_hint = auth_state.get("id_token")
        await super().get()

    async def render_logout_page(self):
        url = self.authenticator.logout_redirect_url
        if url and self._id_token_hint:
            self.redirect(url_concat(url, {"id_token_hint": self._id_token_hint}))
            return
        await super().render_logout_page()


class SiteAuthenticator(GenericOAuthenticator):
    """GenericOAuthenticator with the site's single logout (configured in hub/setup.py)."""

    logout_handler = SiteLogoutHandler
