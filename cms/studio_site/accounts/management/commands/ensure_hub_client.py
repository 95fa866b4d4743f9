"""Register (or update) JupyterHub as a confidential OIDC client of this site."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import get_application_model


class Command(BaseCommand):
    help = (
        "Create or update the JupyterHub OIDC client (idempotent): confidential, "
        "authorization-code with PKCE, RS256 id_tokens, no consent screen."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument(
            "--redirect-uri", required=True, action="append",
            help="The hub's OAuth callback, e.g. http://localhost:8000/hub/oauth_callback "
            "(repeat for several).",
        )
        parser.add_argument(
            "--post-logout-redirect-uri", action="append", default=[],
            help="Where the site may send the browser after the hub's logout, "
            "e.g. http://localhost:8000/hub/login (repeat for several).",
        )
        parser.add_argument("--name", default="JupyterHub")

    def handle(self, *args, **options) -> None:
        Application = get_application_model()
        secret = options["client_secret"]
        if len(secret) < 16:
            raise CommandError("--client-secret must be at least 16 characters long.")
        for uri in options["redirect_uri"] + options["post_logout_redirect_uri"]:
            if not uri.startswith(("http://", "https://")):
                raise CommandError(f"{uri!r} is not an http(s) URL.")
        app, created = Application.objects.get_or_create(
            client_id=options["client_id"],
            defaults={"name": options["name"]},
        )
        app.name = options["name"]
        app.client_type = Application.CLIENT_CONFIDENTIAL
        app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        app.redirect_uris = " ".join(options["redirect_uri"])
        app.post_logout_redirect_uris = " ".join(options["post_logout_redirect_uri"])
        app.algorithm = Application.RS256_ALGORITHM
        # The hub is part of this deployment: a learner signing in should not see a
        # consent screen for the site's own notebook server.
        app.skip_authorization = True
        app.client_secret = secret
        app.hash_client_secret = True
        app.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} OIDC client {app.client_id!r} ({app.name})")
