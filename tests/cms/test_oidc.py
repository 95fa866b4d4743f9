"""OpenID Connect: the hub's client, authorization code + PKCE through the real views."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import get_application_model

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py

pytestmark = pytest.mark.django_db
CLIENT_ID = "jupyterhub"
SECRET = "hub-secret-0123456789abcdef"
REDIRECT = "http://hub.test/hub/oauth_callback"
AFTER_LOGOUT = "http://hub.test/hub/login"


@pytest.fixture
def hub_client(db):
    call_command("ensure_hub_client", "--client-id", CLIENT_ID, "--client-secret", SECRET,
                 "--redirect-uri", REDIRECT, "--post-logout-redirect-uri", AFTER_LOGOUT,
                 verbosity=0)
    return get_application_model().objects.get(client_id=CLIENT_ID)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize(client: Client, challenge: str, scope: str = "openid profile email groups"):
    return client.get("/o/authorize/", {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
        "scope": scope, "state": "st4te", "nonce": "n0nce",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })


def token_request(code: str, verifier: str):
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    return Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }, HTTP_AUTHORIZATION=f"Basic {basic}")


def login_and_get_code(client: Client, username: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    first = authorize(client, challenge)
    assert first.status_code == 302 and first["Location"].startswith("/accounts/login/")
    client.login(username=username, password=DEMO_PASSWORD)
    second = authorize(client, challenge)
    assert second.status_code == 302, second.content[:500]
    target = urlparse(second["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == ["st4te"]
    return query["code"][0], verifier


def decode_id_token(id_token: str) -> dict:
    jwks = Client().get("/o/.well-known/jwks.json").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    return jwt.decode(id_token, key=key, algorithms=["RS256"], audience=CLIENT_ID,
                      issuer="http://testserver/o")


def test_ensure_hub_client_is_idempotent(hub_client) -> None:
    call_command("ensure_hub_client", "--client-id", CLIENT_ID, "--client-secret", SECRET + "x",
                 "--redirect-uri", REDIRECT, "--redirect-uri", "http://other.test/cb",
                 verbosity=0)
    apps = get_application_model().objects.filter(client_id=CLIENT_ID)
    assert apps.count() == 1
    app = apps.get()
    assert app.redirect_uris.split() == [REDIRECT, "http://other.test/cb"]
    assert app.client_type == "confidential" and app.algorithm == "RS256"
    assert app.skip_authorization
    with pytest.raises(CommandError, match="at least 16"):
        call_command("ensure_hub_client", "--client-id", CLIENT_ID, "--client-secret", "short",
                     "--redirect-uri", REDIRECT)


def test_discovery_document() -> None:
    doc = Client().get("/o/.well-known/openid-configuration/").json()
    assert doc["issuer"] == "http://testserver/o"
    assert doc["authorization_endpoint"].endswith("/o/authorize/")
    assert doc["end_session_endpoint"].endswith("/o/logout/")
    assert "RS256" in doc["id_token_signing_alg_values_supported"]


def test_code_flow_with_pkce_issues_groups_claim(hub_client) -> None:
    browser = Client()
    code, verifier = login_and_get_code(browser, "ada")
    response = token_request(code, verifier)
    assert response.status_code == 200, response.content
    tokens = response.json()
    claims = decode_id_token(tokens["id_token"])
    assert claims["preferred_username"] == "ada"
    assert claims["groups"] == ["instructors", "instructors:intro-python"]
    assert claims["nonce"] == "n0nce"
    assert claims["email"] == "ada@studio.localhost"

    userinfo = Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert userinfo.status_code == 200
    info = userinfo.json()
    assert info["preferred_username"] == "ada"
    assert info["groups"] == ["instructors", "instructors:intro-python"]

    # The code is single-use.
    assert token_request(code, verifier).status_code == 400


def test_wrong_pkce_verifier_is_rejected(hub_client) -> None:
    code, _ = login_and_get_code(Client(), "alan")
    response = token_request(code, "a-verifier-that-does-not-match-the-challenge-0000")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_authorize_without_pkce_is_refused(hub_client) -> None:
    browser = Client()
    browser.login(username="alan", password=DEMO_PASSWORD)
    response = browser.get("/o/authorize/", {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
        "scope": "openid", "state": "s",
    })
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]


def test_groups_claim_needs_groups_scope_and_follows_enrolment(hub_client, users) -> None:
    browser = Client()
    verifier, challenge = pkce_pair()
    browser.login(username="grace", password=DEMO_PASSWORD)
    code = parse_qs(urlparse(authorize(browser, challenge, "openid profile")["Location"]).query)
    claims = decode_id_token(token_request(code["code"][0], verifier).json()["id_token"])
    assert "groups" not in claims and claims["preferred_username"] == "grace"

    browser.post("/courses/intro-python/leave/")
    code, verifier = login_and_get_code(Client(), "grace")
    claims = decode_id_token(token_request(code, verifier).json()["id_token"])
    assert claims["groups"] == []


def test_rp_initiated_logout_ends_site_session(hub_client) -> None:
    browser = Client()
    code, verifier = login_and_get_code(browser, "alan")
    id_token = token_request(code, verifier).json()["id_token"]
    assert browser.get("/progress/").status_code == 200
    response = browser.get("/o/logout/", {"id_token_hint": id_token, "client_id": CLIENT_ID,
                                          "post_logout_redirect_uri": AFTER_LOGOUT})
    assert response.status_code == 302 and response["Location"] == AFTER_LOGOUT
    assert browser.get("/progress/").status_code == 302  # logged out of the site too


def test_logout_refuses_unregistered_redirect(hub_client) -> None:
    browser = Client()
    code, verifier = login_and_get_code(browser, "alan")
    id_token = token_request(code, verifier).json()["id_token"]
    response = browser.get("/o/logout/", {"id_token_hint": id_token, "client_id": CLIENT_ID,
                                          "post_logout_redirect_uri": "http://evil.test/"})
    assert response.status_code == 400
    assert browser.get("/progress/").status_code == 200


def test_rsa_key_generated_once(tmp_path) -> None:
    from studio_site.keys import load_or_create_rsa_key

    path = tmp_path / "key.pem"
    first = load_or_create_rsa_key(path)
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert load_or_create_rsa_key(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.dumps(first)  # plain text, storable in an env var too


def test_hub_logout_without_id_token_asks_then_logs_out(hub_client) -> None:
    """The hub's static logout_redirect_url carries no id_token_hint: the site asks once."""
    browser = Client()
    browser.login(username="alan", password=DEMO_PASSWORD)
    query = {"client_id": CLIENT_ID, "post_logout_redirect_uri": AFTER_LOGOUT}
    prompt = browser.get("/o/logout/", query)
    assert prompt.status_code == 200 and b"Log out of Learning Studio?" in prompt.content
    done = browser.post("/o/logout/", {**query, "allow": "true"})
    assert done.status_code == 302 and done["Location"] == AFTER_LOGOUT
    assert browser.get("/progress/").status_code == 302


def test_token_exchange_with_client_secret_in_body(hub_client) -> None:
    """OAuthenticator's GenericOAuthenticator sends client_secret in the POST body."""
    code, verifier = login_and_get_code(Client(), "grace")
    response = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": CLIENT_ID, "client_secret": SECRET,
    })
    assert response.status_code == 200
    assert decode_id_token(response.json()["id_token"])["groups"] == ["learners:intro-python"]
