"""Single sign-on with a real JupyterHub 6.1.1 + OAuthenticator 17.4.0 (GenericOAuthenticator).

The hub runs as a subprocess configured exactly as docs/cms-operator.md tells the operator;
the site runs in pytest-django's live server. A requests session plays the browser: log in
on the site, land on the hub as the same user with the course groups, log out of both.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

jupyterhub = pytest.importorskip("jupyterhub", reason="jupyterhub is a project dependency")
pytest.importorskip("oauthenticator", reason="oauthenticator is in cms/requirements.txt")
import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from stack import follow, free_port, site_form_login  # noqa: E402

DEMO_PASSWORD = "studio-demo-2026"  # seed_demo password, see conftest.py
HERE = Path(__file__).resolve().parent
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HUB_CONFIG = """
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {public_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.proxy_class = "hub_support.InMemoryRoutesProxy"
c.JupyterHub.db_url = "sqlite:///{tmp}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.JupyterHub.pid_file = "{tmp}/hub.pid"
c.JupyterHub.services = [{{"name": "sso-test", "api_token": "{api_token}"}}]
c.JupyterHub.load_roles = [{{"name": "sso-test", "services": ["sso-test"],
                             "scopes": ["admin:users", "read:groups", "list:users"]}}]

c.JupyterHub.authenticator_class = "{authenticator}"
c.GenericOAuthenticator.client_id = "jupyterhub"
c.GenericOAuthenticator.client_secret = "{secret}"
c.GenericOAuthenticator.oauth_callback_url = "{hub}/hub/oauth_callback"
c.GenericOAuthenticator.authorize_url = "{site}/o/authorize/"
c.GenericOAuthenticator.token_url = "{site}/o/token/"
c.GenericOAuthenticator.userdata_url = "{site}/o/userinfo/"
c.GenericOAuthenticator.scope = ["openid", "profile", "email", "groups"]
c.GenericOAuthenticator.username_claim = "preferred_username"
c.GenericOAuthenticator.manage_groups = True
c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
c.GenericOAuthenticator.allow_all = True
c.GenericOAuthenticator.admin_groups = {{"admins"}}
c.GenericOAuthenticator.enable_pkce = True
c.GenericOAuthenticator.login_service = "Learning Studio"
c.GenericOAuthenticator.enable_auth_state = True
c.Authenticator.auth_refresh_age = 1
c.Authenticator.refresh_pre_spawn = True
c.GenericOAuthenticator.logout_redirect_url = (
    "{site}/o/logout/?client_id=jupyterhub&post_logout_redirect_uri={hub}/hub/login")
"""


@pytest.fixture
def hub(live_server, tmp_path, request):
    call_command("seed_demo", password=DEMO_PASSWORD, verbosity=0)  # the DB may be flushed
    secret = secrets.token_hex(16)
    hub_port = free_port()
    hub_url = f"http://127.0.0.1:{hub_port}"
    call_command("ensure_hub_client", "--client-id", "jupyterhub", "--client-secret", secret,
                 "--redirect-uri", f"{hub_url}/hub/oauth_callback",
                 "--post-logout-redirect-uri", f"{hub_url}/hub/login", verbosity=0)
    api_token = secrets.token_hex(16)
    (tmp_path / "jupyterhub_config.py").write_text(HUB_CONFIG.format(
        public_port=free_port(), hub_port=hub_port, tmp=tmp_path, api_token=api_token,
        secret=secret, hub=hub_url, site=live_server.url,
        authenticator=getattr(request, "param", "generic-oauth")))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent.parent)]), "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32)}
    log = open(tmp_path / "hub.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(tmp_path / "jupyterhub_config.py")],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{hub_url}/hub/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        else:
            pytest.fail("hub did not start:\n" + (tmp_path / "hub.log").read_text()[-3000:])
        yield {"url": hub_url, "site": live_server.url, "token": api_token,
               "log": tmp_path / "hub.log"}
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def hub_user(hub: dict, name: str) -> dict:
    response = requests.get(f"{hub['url']}/hub/api/users/{name}", timeout=10,
                            headers={"Authorization": f"token {hub['token']}"})
    assert response.status_code == 200, response.text
    return response.json()


def sign_in_through_hub(hub: dict, username: str) -> requests.Session:
    browser = requests.Session()
    login_page = follow(browser, f"{hub['url']}/hub/oauth_login")
    assert login_page.url.startswith(f"{hub['site']}/accounts/login/"), login_page.url
    after_login = site_form_login(browser, login_page, username, DEMO_PASSWORD)
    landed = follow(browser, after_login, stop_at="/hub/spawn")
    assert "/hub/" in landed.url and landed.url.startswith(hub["url"]), (
        landed.url, hub["log"].read_text()[-3000:])
    return browser


def test_sign_in_on_site_lands_on_hub_with_groups(hub) -> None:
    browser = sign_in_through_hub(hub, "ada")
    user = hub_user(hub, "ada")
    assert user["name"] == "ada"
    assert sorted(user["groups"]) == ["instructors", "instructors:intro-python"]
    assert user["admin"] is False
    # The hub session is real: the browser's hub cookie identifies ada.
    home = browser.get(f"{hub['url']}/hub/home", timeout=10)
    assert home.status_code == 200 and "ada" in home.text

    admin = sign_in_through_hub(hub, "admin")
    assert admin is not None
    assert hub_user(hub, "admin")["admin"] is True
    learner = sign_in_through_hub(hub, "alan")
    assert learner is not None
    assert hub_user(hub, "alan")["groups"] == ["learners:intro-python"]


@pytest.mark.parametrize("hub", ["hub.auth.SiteAuthenticator"], indirect=True)
def test_logout_with_id_token_hint_needs_no_click(hub) -> None:
    """With the hub passing its id_token (docs/cms-operator.md), logout is one redirect."""
    browser = sign_in_through_hub(hub, "alan")
    assert browser.get(f"{hub['site']}/progress/", allow_redirects=False).status_code == 200
    landed = follow(browser, f"{hub['url']}/hub/logout", stop_at="/hub/login")
    assert landed.url == f"{hub['url']}/hub/login", landed.url
    assert browser.get(f"{hub['site']}/progress/", allow_redirects=False).status_code == 302
    assert browser.get(f"{hub['url']}/hub/home", allow_redirects=False).status_code == 302


def test_logout_from_hub_logs_out_of_site(hub) -> None:
    browser = sign_in_through_hub(hub, "grace")
    assert browser.get(f"{hub['site']}/progress/", allow_redirects=False).status_code == 200
    prompt = follow(browser, f"{hub['url']}/hub/logout")
    assert prompt.url.startswith(f"{hub['site']}/o/logout/") and "Log out of" in prompt.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', prompt.text).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', prompt.text))
    fields.update(csrfmiddlewaretoken=token, allow="true")
    done = browser.post(prompt.url, data=fields, headers={"Referer": prompt.url},
                        allow_redirects=False, timeout=15)
    assert done.status_code == 302 and done.headers["Location"] == f"{hub['url']}/hub/login"
    assert browser.get(f"{hub['site']}/progress/", allow_redirects=False).status_code == 302
    assert browser.get(f"{hub['url']}/hub/home", allow_redirects=False).status_code == 302


def test_enrolment_reaches_hub_groups_without_new_login(hub) -> None:
    """With auth_state on, the hub re-reads userinfo (auth_refresh_age) and updates groups."""
    from studio_site.accounts.models import User
    from studio_site.catalogue.models import CoursePage, Enrolment

    browser = sign_in_through_hub(hub, "grace")
    assert hub_user(hub, "grace")["groups"] == ["learners:intro-python"]
    course = CoursePage.objects.get(course_id="intro-python")
    Enrolment.objects.filter(user=User.objects.get(username="grace"), course=course).delete()
    time.sleep(1.5)  # older than auth_refresh_age
    assert browser.get(f"{hub['url']}/hub/home", timeout=10).status_code == 200
    assert hub_user(hub, "grace")["groups"] == []


def test_logout_from_site_logs_out_of_hub(hub, settings) -> None:
    settings.HUB_LOGOUT_URL = f"{hub['url']}/hub/logout"
    browser = sign_in_through_hub(hub, "grace")
    assert browser.get(f"{hub['url']}/hub/home", allow_redirects=False).status_code == 200
    profile = browser.get(f"{hub['site']}/accounts/profile/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', profile.text).group(1)
    out = browser.post(f"{hub['site']}/accounts/logout/", data={"csrfmiddlewaretoken": token},
                       headers={"Referer": profile.url}, allow_redirects=False, timeout=10)
    assert out.status_code == 302 and out.headers["Location"] == settings.HUB_LOGOUT_URL
    landed = follow(browser, out.headers["Location"], stop_at="/hub/login")
    assert landed.url == f"{hub['url']}/hub/login", landed.url
    assert browser.get(f"{hub['url']}/hub/home", allow_redirects=False).status_code == 302
    assert browser.get(f"{hub['site']}/progress/", allow_redirects=False).status_code == 302
