"""The path-based mode (STUDIO_SUBDOMAINS=0, issue #12) with a real hub, proxy and Docker
engine: the proxy routes by path alone (no --host-routing), a learner signs in, their
server spawns and JupyterLab answers at /user/<name>/lab on the public host itself, not
a subdomain, and the server's API works through the proxy with the learner's token. With
sign-in through the site, the site keeps `/` of the same host beside the hub's paths, the
single sign-on goes to the site and comes back to that host, and the tls-ask service
approves the public host alone."""

from __future__ import annotations

import http.server
import re
import threading
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from stack import follow, free_port, running_stack, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(420)]
PASSWORD = "learn-with-notebooks"


def proxy_routes(stack) -> dict:
    r = requests.get(f"http://127.0.0.1:{stack.api_port}/api/routes", timeout=10,
                     headers={"Authorization": f"token {stack.proxy_token}"})
    r.raise_for_status()
    return r.json()


def password_sign_in(public: str, name: str) -> requests.Session:
    """The hub's own login form, as a browser submits it (its _xsrf field and cookie)."""
    session = requests.Session()
    page = session.get(f"{public}/hub/login", timeout=30)
    assert page.status_code == 200 and page.url == f"{public}/hub/login", page.url
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = session.post(f"{public}/hub/login", data={
        "username": name, "password": PASSWORD, "_xsrf": xsrf}, allow_redirects=False,
        timeout=30)
    assert r.status_code == 302, f"login refused: {r.status_code} {r.text[:300]}"
    return session


def test_a_learner_works_on_a_path_of_the_public_host(tmp_path):
    with running_stack(tmp_path, host_routing=False, STUDIO_SUBDOMAINS="0",
                       STUDIO_LOGIN="password") as stack:
        public = f"http://localhost:{stack.port}"  # STUDIO_PUBLIC_HOST's default
        session = password_sign_in(public, "alan")

        # the browser asks for JupyterLab; the hub spawns the server and sends it there
        r = session.get(f"{public}/hub/spawn", allow_redirects=False, timeout=60)
        assert r.status_code == 302, r.text[:300]
        ready = stack.follow_progress("alan", timeout=180)
        # the server's URL is a path, on the hub's own host: no <name>.<host>
        assert ready["url"] == "/user/alan/", ready

        lab = session.get(f"{public}/user/alan/lab", timeout=60)  # its OAuth with the hub
        assert lab.status_code == 200, lab.text[:500]
        assert lab.url == f"{public}/user/alan/lab"
        assert '"appName": "JupyterLab"' in lab.text or "jupyter-config-data" in lab.text
        every_hop = [urlparse(h.url).netloc for h in lab.history] + [urlparse(lab.url).netloc]
        assert set(every_hop) == {f"localhost:{stack.port}"}, every_hop

        # the proxy's routes have no host in them: path routing only
        routes = proxy_routes(stack)
        assert "/user/alan" in routes, routes
        assert not [spec for spec in routes if "localhost" in spec], routes

        # the server's REST API through the proxy, with the learner's own token
        token = stack.user_token("alan")
        status = requests.get(f"{public}/user/alan/api/status", timeout=30,
                              headers={"Authorization": f"token {token}"})
        assert status.status_code == 200, status.text
        assert "started" in status.json()
        assert stack.server_url("alan") == f"{public}/user/alan/"

        # another learner's token does not open alan's server
        grace = stack.user_token("grace")
        other = requests.get(f"{public}/user/alan/api/status", allow_redirects=False,
                             timeout=30, headers={"Authorization": f"token {grace}"})
        assert other.status_code == 403, other.status_code

        # the bare address still sends browsers to the public host (one origin for cookies)
        bare = requests.get(f"http://127.0.0.1:{stack.port}/hub/login?next=%2Fhub%2F",
                            allow_redirects=False, timeout=10)
        assert bare.status_code == 302
        assert bare.headers["Location"] == f"{public}/hub/login?next=%2Fhub%2F"


class StandInSite(http.server.BaseHTTPRequestHandler):
    """Stands in for the Wagtail site behind the proxy: says what it was asked."""

    def do_GET(self):
        body = f"site: {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), StandInSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_site_shares_the_public_host_by_path(tmp_path, site):
    ask_port = free_port()
    with running_stack(tmp_path, host_routing=False, STUDIO_SUBDOMAINS="0",
                       STUDIO_LOGIN="site", STUDIO_SITE_INTERNAL_URL=site,
                       STUDIO_TLS_ASK_PORT=str(ask_port)) as stack:
        public = f"http://localhost:{stack.port}"

        def routed():
            # (the proxy lists routes without their trailing slash)
            routes = proxy_routes(stack)
            return routes if {"/", "/hub", "/user", "/services"} <= set(routes) else None

        for attempt in ("started", "restarted"):
            routes = wait_for(routed, 30, "the hub's routes")
            hub = routes["/hub"]["target"]
            assert routes["/"]["target"] == site, (attempt, routes)
            assert routes["/user"]["target"] == hub and routes["/services"]["target"] == hub
            assert "/services/grader" in routes  # the grader is a path too
            assert not [spec for spec in routes if "localhost" in spec], routes
            # every path that is not the hub's goes to the site, on the one public host
            assert requests.get(f"{public}/courses/", timeout=10).text == "site: /courses/"
            assert requests.get(f"{public}/hub/api/", timeout=10).json()["version"]
            if attempt == "started":
                stack.restart_hub()  # its route check at start leaves the site its `/`

        # single sign-on: the hub's login goes to the site's authorize endpoint on the
        # public host, and asks it to come back to the hub's callback there
        session = requests.Session()
        authorize = follow(session, f"{public}/hub/login", stop_at="/o/authorize")
        assert authorize.url.startswith(f"{public}/o/authorize/"), authorize.url
        assert authorize.text.startswith("site: /o/authorize/")
        query = parse_qs(urlparse(authorize.url).query)
        assert query["redirect_uri"] == [f"{public}/hub/oauth_callback"]
        # a learner's server path, not running, reaches the hub (not the site)
        r = session.get(f"{public}/user/alan/lab", allow_redirects=False, timeout=10)
        assert r.status_code == 302 and "/hub/" in r.headers["Location"], r.headers

        # the TLS front's certificate questions: the public host only, even for a user
        wait_for(lambda: stack._port_open(ask_port), 30, "the tls-ask service")
        assert stack.admin("POST", "users/alan").status_code in (201, 409)

        def may_have_certificate(domain: str) -> bool:
            r = requests.get(f"http://127.0.0.1:{ask_port}/", params={"domain": domain},
                             timeout=10)
            assert r.status_code in (200, 404), r.text
            return r.status_code == 200

        assert stack.admin("GET", "users/alan").status_code == 200
        assert may_have_certificate("localhost")
        assert not may_have_certificate("alan.localhost")
        assert not may_have_certificate("grader--service.localhost")
