from drf_spectacular.extensions import OpenApiAuthenticationExtension


def only_api_v1(endpoints: list) -> list:
    """drf-spectacular hook: document /api/v1/ only."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer lst_...` (accounts.tokens) in the OpenAPI schema."""

    target_class = "studio_site.accounts.tokens.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer",
                "description": "A personal API token (lst_...) made on /accounts/tokens/."}
