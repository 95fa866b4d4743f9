"""Run a real Learning Studio hub and proxy for tests and benchmarks.

The same jupyterhub_config.py as the compose stack, as host processes from the project's
environment, under a unique name prefix so that everything they create in Docker is
found and removed afterwards. Used by tests/hub and tests/benchmarks.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import docker
import requests
from tooling import VENV_BIN, start_process, stop_process

ROOT = Path(__file__).resolve().parent.parent


# Browsers resolve *.localhost to loopback; Python's resolver does not. Learner servers
# live on <name>.localhost, so teach this process the same rule.
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Stack:
    """A running proxy + hub pair with a unique Docker name prefix."""

    def __init__(self, workdir: Path, prefix: str | None = None,
                 hub_command: list[str] | None = None, host_routing: bool = True, **env: str):
        self.host_routing = host_routing
        self.hub_command = hub_command or [
            sys.executable, "-m", "hub", "-f", str(ROOT / "jupyterhub_config.py")]
        self.prefix = prefix or f"lst{secrets.token_hex(3)}"
        self.workdir = workdir
        self.port = free_port()
        self.api_port = free_port()
        self.hub_port = free_port()
        self.admin_token = secrets.token_hex(16)
        self.proxy_token = secrets.token_hex(16)
        self.env = {
            **os.environ,
            "STUDIO_DATA_DIR": str(workdir / "hub"),
            "STUDIO_PREFIX": self.prefix,
            "STUDIO_PORT": str(self.port),
            "STUDIO_HUB_PORT": str(self.hub_port),
            "STUDIO_PROXY_API_URL": f"http://127.0.0.1:{self.api_port}",
            "CONFIGPROXY_AUTH_TOKEN": self.proxy_token,
            "STUDIO_ADMIN_TOKEN": self.admin_token,
            "STUDIO_IDLE_TIMEOUT": "0",
            # learners' home images (the default 1G quota is on) stay in the test's folder
            "STUDIO_HOMES_DIR": str(workdir / "homes"),
            # this checkout's code and its shared contracts, whatever the venv points at
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contracts")]),
            **env,
        }
        self.proxy: subprocess.Popen | None = None
        self.hub: subprocess.Popen | None = None
        self.docker = docker.from_env()

    # -- processes ------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hub_api(self, path: str) -> str:
        return f"{self.public_url}/hub/api/{path.lstrip('/')}"

    def start_proxy(self) -> None:
        log = open(self.workdir / "proxy.log", "ab")
        self.proxy = start_process(
            [str(VENV_BIN / "configurable-http-proxy"), "--ip", "127.0.0.1",
             "--port", str(self.port), "--api-ip", "127.0.0.1",
             "--api-port", str(self.api_port),
             *(["--host-routing"] if self.host_routing else [])],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self._port_open(self.api_port), 15, "the proxy's API")

    def start_hub(self, wait: bool = True) -> subprocess.Popen:
        (self.workdir / "hub").mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "hub.log", "ab")
        self.hub = start_process(
            self.hub_command, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        if wait:
            wait_for(self._hub_up, 30, "the hub to answer")
        return self.hub

    def _hub_up(self) -> bool:
        if self.hub and self.hub.poll() is not None:
            raise RuntimeError(f"the hub exited with {self.hub.returncode}:\n{self.hub_log()}")
        try:
            return requests.get(self.hub_api(""), timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop_hub(self) -> None:
        if self.hub:
            stop_process(self.hub, timeout=15)

    def restart_hub(self) -> None:
        self.stop_hub()
        self.start_hub()

    def hub_log(self) -> str:
        path = self.workdir / "hub.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    @staticmethod
    def _port_open(port: int) -> bool:
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    # -- hub API ---------------------------------------------------------------------
    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.admin_token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.hub_api(path), headers=headers, timeout=30, **kwargs)

    def user_token(self, name: str, scopes: list[str] | None = None) -> str:
        body = {"note": "test", "expires_in": 3600}
        if scopes:
            body["scopes"] = scopes
        r = self.admin("POST", f"users/{name}/tokens", json=body)
        r.raise_for_status()
        return r.json()["token"]

    def spawn(self, name: str, timeout: float = 120) -> dict:
        """Ask the hub for a learner's server and follow its progress stream to the end."""
        r = self.admin("POST", f"users/{name}/server")
        if r.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"spawn of {name} answered {r.status_code}: {r.text}")
        return self.follow_progress(name, timeout)

    def follow_progress(self, name: str, timeout: float = 120) -> dict:
        last: dict = {}
        with requests.get(
            self.hub_api(f"users/{name}/server/progress"), stream=True, timeout=timeout,
            headers={"Authorization": f"token {self.admin_token}"},
        ) as r:
            r.raise_for_status()
            for line in r.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    last = json.loads(line[5:])
                    if last.get("ready") or last.get("failed"):
                        break
        if not last.get("ready"):
            raise RuntimeError(f"server of {name} did not become ready: {last}\n{self.hub_log()}")
        return last

    def stop_server(self, name: str) -> None:
        r = self.admin("DELETE", f"users/{name}/server")
        assert r.status_code in (202, 204), r.text
        if r.status_code == 202:
            wait_for(lambda: not self.admin("GET", f"users/{name}").json()["servers"], 60,
                     f"{name}'s server to stop")

    def server_url(self, name: str) -> str:
        """A learner's server as a browser reaches it: on <name>.localhost with routes by
        host (subdomain_host), else a path of the public host (STUDIO_SUBDOMAINS=0)."""
        port = urlparse(self.public_url).port
        if self.host_routing:
            return f"http://{name}.localhost:{port}/user/{name}/"
        return f"http://localhost:{port}/user/{name}/"

    # -- docker ----------------------------------------------------------------------
    def container(self, name: str):
        return self.docker.containers.get(f"{self.prefix}-{name}")

    def cleanup_docker(self) -> None:
        remove_by_prefix(self.docker, self.prefix)
        release_homes(self.docker, self.env["STUDIO_HOMES_DIR"],
                      self.env.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest"))

    def close(self) -> None:
        self.stop_hub()
        if self.proxy:
            stop_process(self.proxy, timeout=10)
        self.cleanup_docker()


def remove_by_prefix(client: docker.DockerClient, prefix: str) -> None:
    """Remove every container, volume and network whose name starts with prefix-."""
    for c in client.containers.list(all=True, filters={"name": f"^{prefix}-"}):
        c.remove(force=True)
    for v in client.volumes.list(filters={"name": f"{prefix}-"}):
        if v.name.startswith(f"{prefix}-"):
            v.remove(force=True)
    for n in client.networks.list(names=[f"{prefix}-"]):
        if n.name.startswith(f"{prefix}-"):
            n.reload()
            for cid in n.attrs.get("Containers") or {}:
                try:
                    n.disconnect(cid, force=True)
                except docker.errors.APIError:
                    pass
            n.remove()


def release_homes(client: docker.DockerClient, homes_dir: str, image: str) -> None:
    """Detach the loop devices of the learners' home images a stack made, if any."""
    if not any(Path(homes_dir).glob("*.img")):
        return
    from hub.homes import QuotaHomes

    QuotaHomes(client, homes_dir, image, "lsthomes").release_all()


# --- a test's own compose stack (`./studio up` with an environment of its own) ---------
COMPOSE_PORTS = ("STUDIO_PORT", "STUDIO_PROXY_API_PORT", "STUDIO_HUB_PORT", "STUDIO_CMS_PORT",
                 "STUDIO_GRADER_PORT", "STUDIO_GRADER_METRICS_PORT")


def compose_env(name: str, env_file: Path, **settings: str | None) -> dict[str, str]:
    """`./studio up`'s environment for a test's own compose stack: a compose project and
    container prefix of its own (``name`` and a random tag), its own env file, free ports,
    no idle culling; then ``settings`` (None removes a setting the caller's environment
    may hold)."""
    tag = f"{name}{secrets.token_hex(3)}"
    env = {**os.environ, "STUDIO_COMPOSE_PROJECT": tag, "STUDIO_ENV_FILE": str(env_file),
           "STUDIO_PREFIX": tag, **{port: str(free_port()) for port in COMPOSE_PORTS},
           "STUDIO_IDLE_TIMEOUT": "0"}
    for key, value in settings.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def env_value(env: dict, name: str) -> str:
    """A value `./studio up` wrote into the stack's env file (a token, a secret)."""
    return next(line.strip().split("=", 1)[1] for line in open(env["STUDIO_ENV_FILE"])
                if line.startswith(f"{name}="))


def compose_down(env: dict, *volumes: str) -> None:
    """Stop a test's compose stack and remove what it made: its hub-data and cms-data
    volumes and ``volumes``, its containers (by prefix), the loop devices of its
    learners' homes (when it had a STUDIO_HOMES_DIR of its own)."""
    subprocess.run([str(ROOT / "studio"), "down"], env=env, capture_output=True)
    project = env["STUDIO_COMPOSE_PROJECT"]
    subprocess.run(["docker", "volume", "rm", "-f",
                    *(f"{project}_{v}" for v in ("hub-data", "cms-data", *volumes))],
                   capture_output=True)
    client = docker.from_env()
    remove_by_prefix(client, env["STUDIO_PREFIX"])
    if env.get("STUDIO_HOMES_DIR"):
        release_homes(client, env["STUDIO_HOMES_DIR"],
                      env.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest"))


@contextmanager
def running_stack(workdir: Path, **env: str):
    stack = Stack(workdir, **env)
    try:
        stack.start_proxy()
        stack.start_hub()
        yield stack
    finally:
        stack.close()
        shutil.rmtree(workdir / "hub", ignore_errors=True)
        shutil.rmtree(workdir / "homes", ignore_errors=True)


def run_code(server_url: str, token: str, code: str, timeout: float = 60) -> str:
    """Start a kernel on a learner's server through the proxy, run code, return stdout."""
    import websocket  # websocket-client

    headers = {"Authorization": f"token {token}"}
    r = requests.post(f"{server_url}api/kernels", json={"name": "python3"}, headers=headers,
                      timeout=timeout)
    r.raise_for_status()
    kernel_id = r.json()["id"]
    ws_url = server_url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"],
                                     timeout=timeout)
    try:
        msg_id = secrets.token_hex(8)
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": secrets.token_hex(8), "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False},
        }))
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise TimeoutError("no answer from the kernel")
    finally:
        ws.close()
        requests.delete(f"{server_url}api/kernels/{kernel_id}", headers=headers, timeout=10)


def release_assignment(grader_api: str, token: str, course: str, assignment: str) -> None:
    """As an instructor: create a course on the grader and release one assignment of
    courses/<course>/source/<assignment>/ (the grader checks it in a sandbox first)."""
    h = {"Authorization": f"token {token}"}
    wait_for(lambda: requests.get(f"{grader_api}/openapi.json", timeout=5).status_code == 200,
             60, "the grader service behind the proxy")
    r = requests.post(f"{grader_api}/courses", headers=h, json={"slug": course, "title": course},
                      timeout=30)
    assert r.status_code in (200, 201, 409), r.text
    source = ROOT / "courses" / course / "source" / assignment
    files = [("files", (p.name, p.read_bytes())) for p in source.iterdir() if p.is_file()]
    r = requests.post(f"{grader_api}/courses/{course}/assignments/{assignment}/release",
                      headers=h, files=files, timeout=300)
    assert r.status_code in (200, 201), r.text


def follow(session: requests.Session, url: str, stop_at: str | None = None,
           limit: int = 12) -> requests.Response:
    """GET url and follow redirects by hand (across origins, as a browser does) until a
    page, or until a URL whose path contains `stop_at` (fetched, not followed further)."""
    from urllib.parse import urljoin

    for _ in range(limit):
        response = session.get(url, allow_redirects=False, timeout=30)
        if response.status_code not in (301, 302, 303) or (
                stop_at and stop_at in urlparse(url).path):
            return response
        url = urljoin(url, response.headers["Location"])
    raise AssertionError(f"too many redirects, last {url}")


def site_form_login(session: requests.Session, login_page: requests.Response, username: str,
                    password: str) -> str:
    """Submit the site's login form (the page the hub sent us to); where it sends us next."""
    import re
    from urllib.parse import urljoin

    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    next_url = re.search(r'name="next" value="([^"]*)"', login_page.text).group(1)
    response = session.post(login_page.url, data={
        "csrfmiddlewaretoken": csrf, "username": username, "password": password,
        "next": next_url.replace("&amp;", "&"),
    }, headers={"Referer": login_page.url}, allow_redirects=False, timeout=30)
    assert response.status_code == 302, f"site login refused {username}: {response.text[:500]}"
    return urljoin(login_page.url, response.headers["Location"])


def site_sign_in(public_url: str, username: str, password: str) -> requests.Session:
    """Sign in the way a browser does with the site's single sign-on: the hub's login
    sends us to the site's login form; after it, the site's authorize endpoint sends us
    back to the hub's OAuth callback, which logs us in on the hub. Returns the session,
    logged in on both (without following on into a spawn)."""
    session = requests.Session()
    login_page = follow(session, f"{public_url}/hub/login")
    assert "/accounts/login/" in login_page.url, (
        f"expected the site's login form, got {login_page.url}")
    after_login = site_form_login(session, login_page, username, password)
    callback = follow(session, after_login, stop_at="/hub/oauth_callback")
    landing = callback.headers.get("Location", "")
    assert callback.status_code == 302 and (
        "/hub/" in landing or f"/user/{username}/" in landing), (
        f"sign-in did not come back to the hub: {callback.url} -> {callback.status_code} "
        f"{landing} {callback.text[:300]}")
    return session
