"""Safe by default (issue #12), the site's side: the first administrator of a real
installation gets a generated password shown once, demo accounts left with the demo's
published password are refused, and the commands that take a secret read it from a file
or the environment, so that no secret needs to be on a command line."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import get_application_model
from studio_site.accounts.models import User

pytestmark = pytest.mark.django_db
DEMO_PASSWORD = "studio-demo-2026"  # seed_demo's default; conftest.py seeds with it
DEMO_USERS = ("admin", "ada", "alan", "grace", "edith")


def first_admin(**kw) -> str:
    out = io.StringIO()
    call_command("first_admin", stdout=out, **kw)
    return out.getvalue()


@pytest.fixture
def no_demo(db, monkeypatch):
    """A real installation: none of the demo's people."""
    monkeypatch.delenv("LS_DEMO_PASSWORD", raising=False)
    User.objects.filter(username__in=DEMO_USERS).delete()
    User.objects.filter(is_superuser=True).delete()


def test_first_admin_gets_a_generated_password_shown_once(no_demo):
    out = first_admin()
    lines = [line for line in out.splitlines() if line.startswith("first-admin-password: ")]
    assert len(lines) == 1, out
    password = lines[0].split(": ", 1)[1]
    assert len(password) >= 20 and password != DEMO_PASSWORD
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(password)
    # the password signs in on the site
    assert Client().login(username="admin", password=password)
    # run again (every ./studio up does): nothing new, and the password is not shown again
    again = first_admin()
    assert "first-admin-password" not in again and password not in again
    assert "exists already" in again
    assert User.objects.filter(is_superuser=True).count() == 1


def test_two_installations_get_different_passwords(no_demo):
    one = first_admin().split("first-admin-password: ")[1].strip()
    User.objects.filter(username="admin").delete()
    two = first_admin().split("first-admin-password: ")[1].strip()
    assert one != two


def test_demo_accounts_with_the_published_password_are_refused(db, monkeypatch):
    # conftest.py seeded the demo people with the demo password: a local demo's data
    monkeypatch.delenv("LS_DEMO_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="demo's published password") as e:
        first_admin()
    assert "alan" in str(e.value) and "docker volume rm" in str(e.value)
    # the stack's own demo password (LS_DEMO_PASSWORD) is the one checked
    monkeypatch.setenv("LS_DEMO_PASSWORD", "learn-with-notebooks")
    for user in User.objects.filter(username__in=DEMO_USERS):
        user.set_password("learn-with-notebooks")
        user.save()
    with pytest.raises(CommandError, match="demo's published password"):
        first_admin()
    # accounts of those names with passwords of their own are not the demo's
    for user in User.objects.filter(username__in=DEMO_USERS):
        user.set_password(f"{user.username}-own-long-password")
        user.save()
    out = first_admin()
    assert "exists already (admin)" in out and "first-admin-password" not in out


def test_seed_demo_reads_its_password_from_the_environment_or_a_file(db, monkeypatch,
                                                                      tmp_path):
    monkeypatch.setenv("LS_DEMO_PASSWORD", "from-the-environment")
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    assert User.objects.get(username="alan").check_password("from-the-environment")
    secret = tmp_path / "pw"
    secret.write_text("from-a-file\n")
    call_command("seed_demo", "--password-file", str(secret), stdout=io.StringIO())
    assert User.objects.get(username="alan").check_password("from-a-file")
    with pytest.raises(CommandError, match="--password-file"):
        call_command("seed_demo", "--password-file", str(tmp_path / "missing"))


def test_hub_client_secret_from_the_environment_or_a_file(db, monkeypatch, tmp_path):
    args = ["--client-id", "jupyterhub", "--redirect-uri", "http://hub.test/cb"]
    monkeypatch.setenv("LS_HUB_CLIENT_SECRET", "env-secret-0123456789abcdef")
    call_command("ensure_hub_client", *args, stdout=io.StringIO())
    app = get_application_model().objects.get(client_id="jupyterhub")
    assert check_password("env-secret-0123456789abcdef", app.client_secret)
    secret = tmp_path / "secret"
    secret.write_text("file-secret-0123456789abcdef\n")
    call_command("ensure_hub_client", *args, "--client-secret-file", str(secret),
                 stdout=io.StringIO())
    app.refresh_from_db()
    assert check_password("file-secret-0123456789abcdef", app.client_secret)
    monkeypatch.delenv("LS_HUB_CLIENT_SECRET")
    with pytest.raises(CommandError, match="LS_HUB_CLIENT_SECRET"):
        call_command("ensure_hub_client", *args)
