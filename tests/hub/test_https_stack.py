"""HTTPS on a real domain (issue #12): `STUDIO_PUBLIC_HOST=<domain> ./studio up` serves the
whole stack over HTTPS through the TLS front (Caddy), with certificates over ACME from
Debian's pebble (Let's Encrypt's test CA) standing in for Let's Encrypt: the public
host's at start, a learner's subdomain on demand (approved by the hub's tls-ask service).
HTTP redirects to HTTPS, every answer carries HSTS, every cookie is secure, and a
Chromium journey (site sign-in, JupyterLab, submit, feedback) runs over it, verifying
certificates against pebble's root, never ignoring errors.

`studio.test` is made up; it resolves to loopback for pebble (tests/acme.py's DNS
server), for this process and for Chromium. One stack serves the module.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys

import certifi
import pytest
import requests
import yaml
from acme import Pebble, resolve_to_loopback
from stack import ROOT, compose_down, compose_env, env_value, free_port, site_sign_in, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]
DOMAIN = "studio.test"
COURSE, ASSIGNMENT = "python-foundations", "ps01-values-and-strings"
ARTIFACTS = ROOT / "test-artifacts" / "https"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1, MAP *.{DOMAIN} 127.0.0.1"]

resolve_to_loopback(DOMAIN)


def studio(env, *args) -> subprocess.CompletedProcess:
    p = subprocess.run([str(ROOT / "studio"), *args], env=env, capture_output=True, text=True,
                       timeout=900)
    assert p.returncode == 0, f"./studio {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def compose_container(env, service: str) -> str:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter",
         f"label=com.docker.compose.project={env['STUDIO_COMPOSE_PROJECT']}",
         "--filter", f"label=com.docker.compose.service={service}"],
        capture_output=True, text=True).stdout.split()
    assert ids, f"no {service} container"
    return ids[0]


def load_course(env, workdir) -> None:
    """What the first administrator does on a real installation: load a course (here one
    assignment of it, to keep the test short) into the grader and the site's catalogue."""
    course = workdir / COURSE
    shutil.copytree(ROOT / "courses" / COURSE, course, ignore=shutil.ignore_patterns("ps0[2-9]*"))
    assert [p.name for p in (course / "source").iterdir()] == [ASSIGNMENT]
    manifest = yaml.safe_load((course / "course.yml").read_text())
    manifest["assignments"] = [a for a in manifest["assignments"] if a["slug"] == ASSIGNMENT]
    (course / "course.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    p = subprocess.run(
        [sys.executable, "-m", "grader", "course", "import", str(course),
         "--hub", f"http://127.0.0.1:{env['STUDIO_PORT']}",
         "--cms-url", f"http://127.0.0.1:{env['STUDIO_CMS_PORT']}"],
        env={**env, "STUDIO_ADMIN_TOKEN": env_value(env, "STUDIO_ADMIN_TOKEN"),
             "STUDIO_SIGNING_SECRET": env_value(env, "STUDIO_SIGNING_SECRET")},
        capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"course import failed:\n{p.stdout}\n{p.stderr}"


def add_learner(env, name: str, password: str) -> None:
    """An account on the site, enrolled in the course, as the admin makes one (the script
    and the password go in on stdin, not on a command line)."""
    script = f"""
from studio_site.accounts.models import User
from studio_site.catalogue.models import CoursePage, Enrolment
user, _ = User.objects.get_or_create(username={name!r}, defaults={{"email": "{name}@{DOMAIN}"}})
user.set_password({password!r})
user.save()
Enrolment.objects.get_or_create(user=user, course=CoursePage.objects.get(course_id={COURSE!r}),
                                role=Enrolment.LEARNER)
print("enrolled", user.username)
"""
    p = subprocess.run(["docker", "exec", "-i", compose_container(env, "cms"),
                        "cms-entrypoint", "manage", "shell"],
                       input=script, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and f"enrolled {name}" in p.stdout, p.stdout + p.stderr


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not (shutil.which("pebble") and shutil.which("certutil")):
        pytest.skip("pebble and certutil are needed (./studio test installs them: "
                    "apt-get install pebble libnss3-tools)")
    work = tmp_path_factory.mktemp("https")
    http_port, https_port = free_port(), free_port()
    pebble = Pebble(work / "pebble", DOMAIN, http_port=http_port, tls_port=https_port)
    env = compose_env(
        "lsh", work / "studio.env",
        **dict.fromkeys(("STUDIO_DEMO", "STUDIO_DEMO_PASSWORD", "STUDIO_LOGIN", "STUDIO_TLS",
                         "STUDIO_BIND_IP", "REQUESTS_CA_BUNDLE")),
        STUDIO_PUBLIC_HOST=DOMAIN,  # a real domain: TLS over ACME is the default
        STUDIO_HTTP_PORT=str(http_port),
        STUDIO_HTTPS_PORT=str(https_port),
        STUDIO_ACME_CA=pebble.directory,
        STUDIO_ACME_CA_ROOT=str(pebble.server_root),
        STUDIO_ACME_EMAIL=f"ops@{DOMAIN}",
        STUDIO_TLS_ASK_PORT=str(free_port()),
    )
    public = f"https://{DOMAIN}:{https_port}"
    try:
        up = studio(env, "up")
        load_course(env, work)
        password = secrets.token_urlsafe(16)
        add_learner(env, "lin", password)
        root = pebble.issuing_root()
        yield {"env": env, "up": up, "public": public, "root": str(root), "pebble": pebble,
               "password": password, "http": f"http://{DOMAIN}:{http_port}",
               "https_port": https_port, "work": work,
               "api": f"http://127.0.0.1:{env['STUDIO_PORT']}/hub/api",
               "admin": {"Authorization": f"token {env_value(env, 'STUDIO_ADMIN_TOKEN')}"}}
    finally:
        try:
            logs = subprocess.run(
                ["docker", "logs", compose_container(env, "caddy")], capture_output=True,
                text=True).stderr
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "caddy.log").write_text(logs)
        except (AssertionError, OSError):
            pass
        compose_down(env, "caddy-data")
        pebble.close()


@pytest.fixture
def verified(stack, monkeypatch):
    """requests verifies every certificate against pebble's root, and nothing else."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", stack["root"])
    return stack["root"]


def served_certificate(host: str, port: int, root: str) -> dict:
    """The certificate the TLS front serves for `host` (SNI), verified against `root`."""
    context = ssl.create_default_context(cafile=root)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert()


def names(cert: dict) -> set[str]:
    return {value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"}


def issuer(cert: dict) -> str:
    return " ".join(value for rdn in cert["issuer"] for _, value in rdn)


def hub_user(stack, name: str) -> dict:
    r = requests.get(f"{stack['api']}/users/{name}", headers=stack["admin"], timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_up_serves_the_site_over_https_with_a_certificate_from_the_acme_ca(stack, verified):
    public = stack["public"]
    assert f"running at {public}/" in stack["up"].stdout, stack["up"].stdout
    assert "first-admin" not in stack["up"].stdout and "password" in stack["up"].stdout
    cert = served_certificate(DOMAIN, stack["https_port"], stack["root"])
    assert names(cert) == {DOMAIN}
    assert "Pebble" in issuer(cert), issuer(cert)  # pebble's intermediate, over ACME
    home = requests.get(f"{public}/", timeout=30)
    assert home.status_code == 200 and "Learning Studio" in home.text
    hsts = home.headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000") and "includeSubDomains" in hsts
    # only one HSTS header, though the site sets its own too (Caddy's replaces it)
    assert len(home.raw.headers.getlist("Strict-Transport-Security")) == 1
    # without pebble's root, the same certificate is refused: the check above is real
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{public}/", verify=certifi.where(), timeout=30)
    # every URL is derived from the public https URL: the hub's login sends the browser to
    # the site's authorize endpoint over https, and back to the hub's https callback
    login = requests.get(f"{public}/hub/oauth_login", allow_redirects=False, timeout=30)
    assert login.status_code == 302, login.text
    location = login.headers["Location"]
    assert location.startswith(f"{public}/o/authorize/"), location
    assert f"redirect_uri=https%3A%2F%2F{DOMAIN}%3A{stack['https_port']}%2Fhub%2Foauth_callback" \
        in location, location


def test_http_redirects_to_https(stack, verified):
    for host in (DOMAIN, f"lin.{DOMAIN}"):
        port = stack["http"].rsplit(":", 1)[1]
        r = requests.get(f"http://{host}:{port}/courses/?page=2", allow_redirects=False,
                         timeout=30)
        assert r.status_code == 308, r.text
        assert r.headers["Location"] == f"https://{host}:{stack['https_port']}/courses/?page=2"


def test_sign_in_over_https_secure_cookies_and_a_learner_certificate_on_demand(stack, verified):
    public = stack["public"]
    # no certificate for a name that is no user's: the tls-ask service says no
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://nobody.{DOMAIN}:{stack['https_port']}/", timeout=30)

    lin = site_sign_in(public, "lin", stack["password"])
    cookies = {c.name: c for c in lin.cookies}
    assert {"ls_cms_session", "ls_cms_csrftoken", "jupyterhub-session-id", "_xsrf"} <= set(
        cookies), list(cookies)
    insecure = [name for name, c in cookies.items() if not c.secure]
    assert not insecure, f"cookies without Secure: {insecure}"
    assert "learners:python-foundations" in hub_user(stack, "lin")["groups"]

    # her server on her own subdomain, with a certificate obtained when first asked for
    r = requests.post(f"{stack['api']}/users/lin/server", headers=stack["admin"], timeout=60)
    assert r.status_code in (201, 202), r.text
    wait_for(lambda: hub_user(stack, "lin")["servers"].get("", {}).get("ready"), 180,
             "lin's server")
    r = requests.post(f"{stack['api']}/users/lin/tokens", headers=stack["admin"], json={},
                      timeout=10)
    token = {"Authorization": f"token {r.json()['token']}"}
    status = requests.get(f"https://lin.{DOMAIN}:{stack['https_port']}/user/lin/api/status",
                          headers=token, timeout=60)
    assert status.status_code == 200, status.text
    cert = served_certificate(f"lin.{DOMAIN}", stack["https_port"], stack["root"])
    assert names(cert) == {f"lin.{DOMAIN}"} and "Pebble" in issuer(cert)
    # the grader's subdomain too
    grader = f"https://grader--service.{DOMAIN}:{stack['https_port']}/services/grader/api"
    r = requests.get(f"{grader}/courses/{COURSE}/assignments", headers=token, timeout=60)
    assert r.status_code == 200 and [a["assignment"] for a in r.json()] == [ASSIGNMENT], r.text


@pytest.mark.browser
def test_browser_journey_over_https(stack, tmp_path):
    """Chromium trusts pebble's root (an NSS database in its HOME), nothing else: sign in
    on the site, open JupyterLab on the learner's subdomain, fetch, submit, feedback."""
    from playwright.sync_api import sync_playwright

    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "pebble-test-root",
                    "-i", stack["root"]], check=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    public, port = stack["public"], stack["https_port"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
                                    env={**os.environ, "HOME": str(home)})
        page = browser.new_context(viewport={"width": 1300, "height": 850}).new_page()
        page.set_default_timeout(60_000)
        try:
            # plain http: the browser lands on https (and stays there: HSTS)
            page.goto(f"{stack['http']}/accounts/login/")
            assert page.url.startswith(f"{public}/accounts/login/"), page.url
            page.fill("input[name=username]", "lin")
            page.fill("input[name=password]", stack["password"])
            page.click("main form[method=post] button")
            page.wait_for_load_state()
            assert "/accounts/login/" not in page.url, page.url
            page.screenshot(path=str(ARTIFACTS / "01-site-signed-in.png"))
            page.click("#open-jupyterlab")
            page.wait_for_url(re.compile(rf"https://lin\.{re.escape(DOMAIN)}:{port}/user/lin/lab"),
                              timeout=180_000)
            page.wait_for_selector(".jp-LabShell", timeout=120_000)
            page.screenshot(path=str(ARTIFACTS / "02-jupyterlab.png"))
            # the Courses panel, fetch the assignment, submit it as released
            if not page.locator("#learning-studio-courses").is_visible():
                page.click(".jp-SideBar [title='Courses'], "
                           ".jp-SideBar li[data-id='learning-studio-courses']")
            page.wait_for_selector(".ls-course", timeout=60_000)
            assignment = page.locator(f".ls-course[data-course='{COURSE}'] "
                                      f".ls-assignment[data-assignment='{ASSIGNMENT}']")
            assignment.locator("button[data-action='Fetch']").click()
            page.wait_for_selector(".jp-NotebookPanel .ls-submit", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "03-fetched.png"))
            page.locator(".jp-NotebookPanel .ls-submit").first.click()
            page.click(".jp-Dialog button:has-text('Submit')")
            page.wait_for_selector(".ls-Feedback .ls-cells", timeout=300_000)
            page.screenshot(path=str(ARTIFACTS / "04-feedback.png"))
            assert "test" in page.inner_text(".ls-Feedback").lower()
            # every page and request of the journey was https, every cookie is Secure:
            # the site's, the hub's and her server's
            assert page.url.startswith(f"https://lin.{DOMAIN}:{port}/")
            cookies = page.context.cookies()
            assert {c["domain"].lstrip(".") for c in cookies} >= {DOMAIN, f"lin.{DOMAIN}"}
            insecure = [(c["domain"], c["name"]) for c in cookies if not c["secure"]]
            assert not insecure, f"cookies without Secure: {insecure}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))
            raise
        finally:
            browser.close()
