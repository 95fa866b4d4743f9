"""Sign-up with e-mail confirmation, login, logout, password reset, roles."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from studio_site.accounts.models import User
from studio_site.catalogue.roles import claim_groups

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py

pytestmark = pytest.mark.django_db


def signup(client: Client, username: str = "linus", email: str = "linus@example.org"):
    return client.post("/accounts/signup/", {
        "username": username, "email": email, "first_name": "Linus", "last_name": "T",
        "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42",
    })


def test_signup_needs_email_confirmation_before_login(client: Client) -> None:
    response = signup(client)
    assert response.status_code == 200
    assert b"linus@example.org" in response.content
    user = User.objects.get(username="linus")
    assert not user.is_active and not user.email_verified
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/verify/\S+/)", mail.outbox[0].body).group(1)

    refused = client.post("/accounts/login/", {"username": "linus",
                                               "password": "a-long-pass-phrase-42"})
    assert refused.status_code == 200
    assert b"not confirmed yet" in refused.content

    confirmed = client.get(link)
    assert confirmed.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.email_verified
    assert client.get("/progress/").status_code == 200  # logged in by the link
    # A link works once: the token depends on last_login, which the login changed.
    assert Client().get(link).status_code == 400


def test_signup_rejects_bad_usernames_and_duplicate_email(client: Client) -> None:
    response = signup(client, username="Bad_Name!", email="alan@studio.localhost")
    assert response.status_code == 200
    text = response.content.decode()
    assert "lower-case letters" in text
    assert "An account with this e-mail exists" in text
    assert not User.objects.filter(username="Bad_Name!").exists()


def test_login_logout_and_wrong_password(client: Client) -> None:
    bad = client.post("/accounts/login/", {"username": "alan", "password": "nope"})
    assert bad.status_code == 200 and b"correct username" in bad.content
    ok = client.post("/accounts/login/", {"username": "alan", "password": DEMO_PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == "/progress/"
    assert client.get("/progress/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 405  # logout only by POST
    out = client.post("/accounts/logout/")
    assert out.status_code == 302
    assert client.get("/progress/").status_code == 302


def test_logout_redirects_to_hub_logout_when_configured(client: Client, settings) -> None:
    settings.HUB_LOGOUT_URL = "http://hub.test/hub/logout"
    client.login(username="alan", password=DEMO_PASSWORD)
    response = client.post("/accounts/logout/")
    assert response["Location"] == "http://hub.test/hub/logout"


def test_password_reset_by_email(client: Client) -> None:
    client.post("/accounts/password-reset/", {"email": "grace@studio.localhost"})
    assert len(mail.outbox) == 1
    path = re.search(r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body)
    form = client.get(path.group(1), follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "brand-new-pass-77",
                                 "new_password2": "brand-new-pass-77"})
    assert done.status_code == 302
    assert Client().login(username="grace", password="brand-new-pass-77")


def test_login_form_enforces_csrf() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alan", "password": DEMO_PASSWORD})
    assert response.status_code == 403


def test_roles_in_groups_claim(users) -> None:
    assert claim_groups(users["ada"]) == ["instructors", "instructors:intro-python"]
    assert claim_groups(users["alan"]) == ["learners:intro-python"]
    assert claim_groups(users["edith"]) == ["editors"]
    assert claim_groups(users["admin"]) == ["admins", "editors"]


def test_profile_edit(client: Client) -> None:
    client.login(username="alan", password=DEMO_PASSWORD)
    page = client.get("/accounts/profile/")
    assert b"learners:intro-python" in page.content
    client.post("/accounts/profile/", {"first_name": "Al", "last_name": "T", "bio": "hi",
                                       "website": "", "public": ""})
    alan = User.objects.get(username="alan")
    assert alan.first_name == "Al" and alan.profile.public is False
