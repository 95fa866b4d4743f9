"""The TLS front's image (images/caddy) in its two modes without ACME: the operator's own
wildcard certificate (STUDIO_TLS=own) and Caddy's internal CA for a LAN
(STUDIO_TLS=internal, learners' certificates on demand, approved by hub/tls_ask.py), and
without subdomains (STUDIO_SUBDOMAINS=0: the public host alone).
The container runs as docker-compose.tls.yml runs it, in front of a stand-in upstream;
ACME against pebble and the whole stack: test_https_stack.py."""

from __future__ import annotations

import http.server
import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from acme import resolve_to_loopback
from stack import ROOT, free_port, wait_for
from tooling import start_process, stop_process
from tornado import web

pytestmark = [pytest.mark.docker, pytest.mark.timeout(180)]
DOMAIN = "lan.test"
IMAGE = os.environ.get("STUDIO_CADDY_IMAGE", "learning-studio/caddy:latest")

resolve_to_loopback(DOMAIN)


def internal_root(container_name: str, root: Path) -> bool:
    """Copy the front's internal CA root to ``root`` once Caddy has made it."""
    p = subprocess.run(["docker", "exec", container_name, "cat",
                        "/data/caddy/pki/authorities/local/root.crt"],
                       capture_output=True, text=True)
    if p.returncode == 0 and "BEGIN CERTIFICATE" in p.stdout:
        root.write_text(p.stdout)
        return True
    return False


class Upstream(http.server.BaseHTTPRequestHandler):
    """Stands in for the proxy: says which host and scheme it was asked for."""

    def do_GET(self):
        body = f"{self.headers['Host']} {self.headers.get('X-Forwarded-Proto')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def run_front(name: str, upstream: int, mode: str, mounts: dict[str, str] | None = None,
              ask_port: int = 1, **env: str) -> dict:
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode:
        subprocess.run(["bash", str(ROOT / "images" / "build.sh"), "caddy"], check=True)
    http_port, https_port = free_port(), free_port()
    args = ["docker", "run", "-d", "--name", name, "--network", "host"]
    for src, dst in (mounts or {}).items():
        args += ["-v", f"{src}:{dst}:ro"]
    for k, v in {"STUDIO_PUBLIC_HOST": DOMAIN, "STUDIO_TLS": mode, "STUDIO_PORT": upstream,
                 "STUDIO_HTTP_PORT": http_port, "STUDIO_HTTPS_PORT": https_port,
                 "STUDIO_TLS_ASK_PORT": ask_port, **env}.items():
        args += ["-e", f"{k}={v}"]
    subprocess.run([*args, IMAGE], check=True, capture_output=True)
    return {"name": name, "http": http_port, "https": https_port}


def logs(name: str) -> str:
    return subprocess.run(["docker", "logs", name], capture_output=True, text=True).stderr[-3000:]


def peer(host: str, port: int, cafile: str) -> dict:
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert()


@pytest.fixture
def container_name():
    name = f"lstls-{secrets.token_hex(3)}"
    yield name
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_own_wildcard_certificate(tmp_path, upstream, container_name):
    ca_key, ca = tmp_path / "ca.key", tmp_path / "ca.pem"
    key, csr, cert = tmp_path / "key.pem", tmp_path / "req.csr", tmp_path / "cert.pem"
    ssl_ = ["openssl"]
    subprocess.run([*ssl_, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=Own Test CA", "-keyout", str(ca_key),
                    "-out", str(ca)], check=True, capture_output=True)
    subprocess.run([*ssl_, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", f"/CN={DOMAIN}", "-keyout", str(key), "-out", str(csr)],
                   check=True, capture_output=True)
    ext = tmp_path / "ext.cnf"
    ext.write_text(f"subjectAltName=DNS:{DOMAIN},DNS:*.{DOMAIN}\n")
    subprocess.run([*ssl_, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o644)
    front = run_front(container_name, upstream, "own",
                      {str(cert): "/certs/cert.pem", str(key): "/certs/key.pem"})
    base = f"https://{DOMAIN}:{front['https']}"
    try:
        wait_for(lambda: _answers(base, str(ca)), 30, "the TLS front", interval=0.3)
    except TimeoutError:
        pytest.fail(logs(container_name))
    for host in (DOMAIN, f"anyone.{DOMAIN}"):
        r = requests.get(f"https://{host}:{front['https']}/x", verify=str(ca), timeout=10)
        assert r.status_code == 200 and r.text == f"{host}:{front['https']} https", r.text
        assert "includeSubDomains" in r.headers["Strict-Transport-Security"]
        assert {v for k, v in peer(host, front["https"], str(ca))["subjectAltName"]} == {
            DOMAIN, f"*.{DOMAIN}"}
    r = requests.get(f"http://{DOMAIN}:{front['http']}/x?y=1", allow_redirects=False, timeout=10)
    assert r.status_code == 308 and r.headers["Location"] == f"{base}/x?y=1"


class HubUsersStandIn(web.RequestHandler):
    """The hub's GET /hub/api/users/<name>, knowing one user, checking the token."""

    def get(self, name):
        if self.request.headers.get("Authorization") != "token ask-token":
            raise web.HTTPError(403)
        if name != "lin":
            raise web.HTTPError(404)
        self.finish({"name": name})


def test_internal_ca_with_learner_certificates_on_demand(tmp_path, upstream, container_name):
    # the real tls-ask service, asking a stand-in for the hub's API
    api_port, ask_port = free_port(), free_port()
    api = tmp_path / "api.py"
    api.write_text(
        "import asyncio, sys\nsys.path.insert(0, sys.argv[2])\n"
        "from tornado import web\nfrom test_tls_front import HubUsersStandIn\n"
        "async def main():\n"
        "    web.Application([(r'/hub/api/users/([^/]+)', HubUsersStandIn)]).listen("
        "int(sys.argv[1]), '127.0.0.1')\n    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{ROOT / 'contracts'}:{ROOT / 'tests'}"}
    fake_hub = start_process([sys.executable, str(api), str(api_port),
                              str(Path(__file__).parent)], env=env)
    ask = start_process([sys.executable, "-m", "hub.tls_ask", f"--port={ask_port}",
                         f"--host={DOMAIN}", "--service=grader"],
                        env={**env, "JUPYTERHUB_API_URL": f"http://127.0.0.1:{api_port}/hub/api",
                             "JUPYTERHUB_API_TOKEN": "ask-token"})
    try:
        # both processes answer before Caddy asks (a loaded machine starts them slowly, and
        # Caddy refuses the handshake of a name its ask could not approve)
        def asks_yes():
            try:
                return requests.get(f"http://127.0.0.1:{ask_port}/",
                                    params={"domain": f"lin.{DOMAIN}"}, timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(asks_yes, 60, "the tls-ask service and the stand-in hub", interval=0.2)
        front = run_front(container_name, upstream, "internal", ask_port=ask_port)
        root = tmp_path / "root.crt"
        try:
            wait_for(lambda: internal_root(container_name, root), 30, "Caddy's internal CA",
                     interval=0.3)
            wait_for(lambda: _answers(f"https://{DOMAIN}:{front['https']}", str(root)), 30,
                     "the TLS front", interval=0.3)
        except TimeoutError:
            pytest.fail(logs(container_name))
        for host in (DOMAIN, f"lin.{DOMAIN}", f"grader--service.{DOMAIN}"):
            r = requests.get(f"https://{host}:{front['https']}/", verify=str(root), timeout=20)
            assert r.status_code == 200 and r.text.endswith(" https"), r.text
            cert = peer(host, front["https"], str(root))
            assert {v for k, v in cert["subjectAltName"]} == {host}
        # no certificate for a name that is no user's, whatever the CA could issue
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"https://nobody.{DOMAIN}:{front['https']}/", verify=str(root),
                         timeout=20)
    finally:
        stop_process(ask)
        stop_process(fake_hub)


def test_without_subdomains_the_public_host_alone(tmp_path, upstream, container_name):
    # STUDIO_SUBDOMAINS=0: learners' servers are paths of the public host, so Caddy has no
    # wildcard site and asks for no certificate on demand (nothing answers on its ask port)
    front = run_front(container_name, upstream, "internal", STUDIO_SUBDOMAINS="0")
    root = tmp_path / "root.crt"
    base = f"https://{DOMAIN}:{front['https']}"
    try:
        wait_for(lambda: internal_root(container_name, root), 30, "Caddy's internal CA",
                 interval=0.3)
        wait_for(lambda: _answers(base, str(root)), 30, "the TLS front", interval=0.3)
    except TimeoutError:
        pytest.fail(logs(container_name))
    r = requests.get(f"{base}/user/lin/lab", verify=str(root), timeout=20)
    assert r.status_code == 200 and r.text == f"{DOMAIN}:{front['https']} https", r.text
    # no subdomains served: HSTS says nothing of them
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert {v for k, v in peer(DOMAIN, front["https"], str(root))["subjectAltName"]} == {DOMAIN}
    # a learner's name under the host gets no certificate, nor does anything else
    for host in (f"lin.{DOMAIN}", f"grader--service.{DOMAIN}"):
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"https://{host}:{front['https']}/", verify=str(root), timeout=20)
    r = requests.get(f"http://{DOMAIN}:{front['http']}/x?y=1", allow_redirects=False, timeout=10)
    assert r.status_code == 308 and r.headers["Location"] == f"{base}/x?y=1"
    caddyfile = subprocess.run(["docker", "exec", container_name, "cat", "/config/Caddyfile"],
                               capture_output=True, text=True, check=True).stdout
    assert "*." not in caddyfile and "on_demand" not in caddyfile, caddyfile


def _answers(url: str, cafile: str) -> bool:
    try:
        return requests.get(url, verify=cafile, timeout=3).status_code == 200
    except requests.RequestException:
        return False
