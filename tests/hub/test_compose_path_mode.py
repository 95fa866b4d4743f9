"""`STUDIO_SUBDOMAINS=0 ./studio up`: the compose stack in the path-based mode (issue #12),
for hosts without wildcard DNS. The proxy routes by path alone, `up` prints the public
addresses of that mode, a learner signs in on the site (single sign-on into the hub) and
JupyterLab opens at /user/<name>/lab on the public host, in a real browser too; the
site's links into JupyterLab lead there; the server's API answers the learner's token.
The compose stack with subdomains: test_compose_stack.py."""

import re
import subprocess
from urllib.parse import urlparse

import pytest
import requests
from stack import ROOT, compose_down, compose_env, env_value, follow, site_sign_in, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]
PASSWORD = "learn-with-notebooks"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = compose_env(
        "lstp", tmp_path_factory.mktemp("compose") / "studio.env",
        STUDIO_SUBDOMAINS="off",
        STUDIO_CONFIG_D=str(tmp_path_factory.mktemp("config.d")),
        STUDIO_HOMES_DIR=str(tmp_path_factory.mktemp("homes")),
        **dict.fromkeys(("STUDIO_MONITORING", "STUDIO_TLS", "STUDIO_PUBLIC_HOST",
                         "STUDIO_PUBLIC_URL", "STUDIO_BIND_IP", "STUDIO_DB", "STUDIO_LOGIN",
                         "STUDIO_DEMO")),
    )
    try:
        up = subprocess.run([str(ROOT / "studio"), "up"], env=env, capture_output=True,
                            text=True, timeout=800)
        assert up.returncode == 0, f"./studio up failed:\n{up.stdout}\n{up.stderr}"
        token = env_value(env, "STUDIO_ADMIN_TOKEN")
        port = env["STUDIO_PORT"]
        yield {"env": env, "up": up, "port": port, "public": f"http://localhost:{port}",
               "api": f"http://127.0.0.1:{port}/hub/api",
               "admin": {"Authorization": f"token {token}"}}
    finally:
        compose_down(env)


def proxy_routes(stack) -> dict:
    token = env_value(stack["env"], "CONFIGPROXY_AUTH_TOKEN")
    r = requests.get(f"http://127.0.0.1:{stack['env']['STUDIO_PROXY_API_PORT']}/api/routes",
                     headers={"Authorization": f"token {token}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def test_up_prints_the_path_mode_addresses_and_routes_by_path(stack):
    out, public = stack["up"].stdout, stack["public"]
    assert f"running at {public}/\n" in out, out
    assert f"Learners' servers: {public}/user/<name>/ (STUDIO_SUBDOMAINS=0" in out, out
    assert "127.0.0.1" not in out  # it would reach the site on another origin
    routes = proxy_routes(stack)
    # no host in any route (the proxy runs without --host-routing); the site has `/`
    assert not [spec for spec in routes if "localhost" in spec], routes
    site = f"http://127.0.0.1:{stack['env']['STUDIO_CMS_PORT']}"
    assert routes["/"]["target"] == site and routes["/hub"]["hub"], routes
    assert "/services/grader" in routes
    home = requests.get(f"{public}/", timeout=30)
    assert home.status_code == 200 and "Learning Studio" in home.text  # the site's home
    # the grader's API, a path of the public host
    r = requests.get(f"{public}/services/grader/api/openapi.json", timeout=30)
    assert r.status_code == 200 and "openapi" in r.json()


def test_sso_then_jupyterlab_on_a_path_of_the_public_host(stack):
    public, port = stack["public"], stack["port"]
    session = site_sign_in(public, "alan", PASSWORD)
    # signed in, the site's JupyterLab link goes to the hub on the same public host
    home = session.get(f"{public}/", timeout=30).text
    assert f'href="{public}/hub/" id="open-jupyterlab"' in home
    # signed in on the hub too: it spawns alan's server, all on the public host
    spawning = follow(session, f"{public}/hub/spawn", stop_at="/spawn-pending/")
    assert spawning.url.startswith(f"{public}/hub/spawn-pending/alan"), spawning.url
    wait_for(lambda: requests.get(f"{stack['api']}/users/alan", headers=stack["admin"],
                                  timeout=10).json()["servers"].get("", {}).get("ready"),
             180, "alan's server")
    # the site's links into JupyterLab (/hub/user-redirect/...) end on alan's path
    lab = session.get(f"{public}/hub/user-redirect/lab", timeout=60)
    assert lab.status_code == 200 and lab.url == f"{public}/user/alan/lab", lab.url
    assert "jupyter-config-data" in lab.text
    hops = {urlparse(h.url).netloc for h in lab.history} | {urlparse(lab.url).netloc}
    assert hops == {f"localhost:{port}"}, hops
    # the server's API through the proxy, with alan's own token
    r = requests.post(f"{stack['api']}/users/alan/tokens", headers=stack["admin"], json={},
                      timeout=10)
    assert r.status_code == 201, r.text
    status = requests.get(f"{public}/user/alan/api/status", timeout=30,
                          headers={"Authorization": f"token {r.json()['token']}"})
    assert status.status_code == 200 and "started" in status.json(), status.text


@pytest.mark.browser
def test_browser_opens_jupyterlab_on_the_public_host(stack):
    from playwright.sync_api import sync_playwright

    public = stack["public"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{public}/accounts/login/")
            page.fill("input[name=username]", "grace")
            page.fill("input[name=password]", PASSWORD)
            page.click("main form[method=post] button")
            page.wait_for_load_state()
            assert "/accounts/login/" not in page.url
            page.click("#open-jupyterlab")  # the site's link; the hub signs her in by SSO
            page.wait_for_url(re.compile(rf"^{re.escape(public)}/user/grace/lab"),
                              timeout=180_000)
            page.wait_for_selector(".jp-LabShell", timeout=120_000)
            # JupyterLab's own API calls work from the page (cookies and XSRF on one host)
            status = page.evaluate("""async () => {
                const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
                const r = await fetch("/user/grace/api/contents",
                                      {headers: {"X-XSRFToken": decodeURIComponent(xsrf)}});
                return r.status; }""")
            assert status == 200
        finally:
            browser.close()
