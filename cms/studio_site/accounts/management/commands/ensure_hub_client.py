"""Register (or update) JupyterHub as a confidential OIDC client of this site.

The client secret comes from --client-secret-file or the environment (LS_HUB_CLIENT_SECRET),
so that it never shows on a process's command line; --client-secret is for a shell.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from oauth2_provider.models import get_application_model


class Command(BaseCommand):
    help = (
        "Create or update the JupyterHub OIDC client (idempotent): confidential, "
        "authorization-code with PKCE, RS256 id_tokens, no consent screen."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret",
                            help="the secret itself (visible to `ps`: prefer the next two)")
        parser.add_argument("--client-secret-file", type=Path,
                            help="a file holding the secret (its first line)")
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
        secret = client_secret(options)
        if len(secret) < 16:
            raise CommandError("the client secret must be at least 16 characters long.")
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


def client_secret(options: dict) -> str:
    if options.get("client_secret"):
        return options["client_secret"]
    path = options.get("client_secret_file")
    if path:
        try:
            return path.read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError) as e:
            raise CommandError(f"--client-secret-file {path}: cannot read a secret from it "
                               f"({e or 'empty'}).") from None
    secret = os.environ.get("LS_HUB_CLIENT_SECRET", "")
    if not secret:
        raise CommandError("no client secret: set LS_HUB_CLIENT_SECRET, or give "
                           "--client-secret-file (or --client-secret).")
    return secret
