"""The first administrator of a real installation: `manage.py first_admin`.

`./studio up` on a public host (where the demo accounts are refused) runs it. With no
administrator yet it creates one (a superuser: an admin of the site, and through the
site's `admins` group of the hub and the grader) with a generated password, and prints
that password once, on a line of its own:

    first-admin-password: <password>

Nothing keeps the password: it is shown this once. Once an administrator exists it
creates nothing and prints nothing secret. It refuses to go on while demo accounts from a
local demo still sign in with the demo password (LS_DEMO_PASSWORD, else the default).
"""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from studio_site.accounts.models import User
from studio_site.home.management.commands.seed_demo import demo_password

DEMO_USERS = ("admin", "ada", "alan", "grace", "edith")
PASSWORD_LINE = "first-admin-password: "


class Command(BaseCommand):
    help = ("Create the first administrator with a generated password, shown once "
            "(nothing is done when one exists).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args, username: str, email: str, **options) -> None:
        demo = demo_password()
        still_demo = [u.username for u in User.objects.filter(username__in=DEMO_USERS,
                                                               is_active=True)
                      if u.check_password(demo)]
        if still_demo:
            raise CommandError(
                f"the demo accounts {', '.join(sorted(still_demo))} are in this site's "
                "database with the demo's published password (a local demo ran with this "
                "data). On a public host they would let anyone in: remove the demo's data "
                "(./studio down, then `docker volume rm <project>_cms-data "
                "<project>_hub-data`; the project is learning-studio unless "
                "STUDIO_COMPOSE_PROJECT says otherwise) and run ./studio up again.")
        existing = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if existing is not None:
            self.stdout.write(f"an administrator exists already ({existing.username}); "
                              "no password is shown again.")
            return
        if User.objects.filter(username=username).exists():
            raise CommandError(f"a user {username!r} exists but is not an administrator: "
                               "give another --username.")
        password = secrets.token_urlsafe(18)
        user = User(username=username, email=email, first_name="Site", last_name="Admin",
                    is_superuser=True, is_staff=True, is_active=True)
        user.email_verified = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"created the first administrator {username!r}")
        self.stdout.write(PASSWORD_LINE + password)
