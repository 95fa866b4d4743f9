"""The README's first command: `./studio up` runs the compose stack; `./studio down`
stops it and keeps every learner's files."""

import os
import secrets
import subprocess

import pytest
import requests
from stack import ROOT, free_port, remove_by_prefix, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def compose_env(tmp_path_factory):
    tag = secrets.token_hex(3)
    env = {
        **os.environ,
        "STUDIO_COMPOSE_PROJECT": f"lstc{tag}",
        "STUDIO_ENV_FILE": str(tmp_path_factory.mktemp("compose") / "studio.env"),
        "STUDIO_PREFIX": f"lstc{tag}",
        "STUDIO_PORT": str(free_port()),
        "STUDIO_PROXY_API_PORT": str(free_port()),
        "STUDIO_HUB_PORT": str(free_port()),
        "STUDIO_IDLE_TIMEOUT": "0",
    }
    yield env
    subprocess.run([str(ROOT / "studio"), "down"], env=env, capture_output=True)
    project = env["STUDIO_COMPOSE_PROJECT"]
    subprocess.run(["docker", "volume", "rm", "-f", f"{project}_hub-data"], capture_output=True)
    import docker

    remove_by_prefix(docker.from_env(), env["STUDIO_PREFIX"])


def studio(env, *args) -> subprocess.CompletedProcess:
    p = subprocess.run([str(ROOT / "studio"), *args], env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"./studio {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def start_server(api: str, headers: dict, name: str) -> None:
    r = requests.post(f"{api}/users/{name}/server", headers=headers, timeout=60)
    assert r.status_code in (201, 202), r.text
    wait_for(lambda: requests.get(f"{api}/users/{name}", headers=headers, timeout=10)
             .json()["servers"].get("", {}).get("ready"), 120, f"{name}'s server")


def test_up_spawn_down_up_keeps_files(compose_env):
    env = compose_env
    port = env["STUDIO_PORT"]
    p = studio(env, "up")
    out, out_err = p.stdout, p.stderr
    assert f"running at http://127.0.0.1:{port}" in out
    assert "alan" in out and "learn-with-notebooks" in out

    token = next(line.strip().split("=", 1)[1] for line in open(env["STUDIO_ENV_FILE"])
                 if line.startswith("STUDIO_ADMIN_TOKEN="))
    api = f"http://127.0.0.1:{port}/hub/api"
    h = {"Authorization": f"token {token}"}
    # a person logs in with the printed password
    s = requests.Session()
    r = s.get(f"http://localhost:{port}/hub/login", timeout=10)
    xsrf = s.cookies.get("_xsrf")
    r = s.post(f"http://localhost:{port}/hub/login?next=", timeout=30, allow_redirects=False,
               data={"username": "alan", "password": "learn-with-notebooks", "_xsrf": xsrf})
    assert r.status_code == 302, r.text[:500]

    # the grader runs inside the stack, as a hub-managed service behind the proxy
    r = requests.get(f"http://grader--service.localhost:{port}/services/grader/api/openapi.json",
                     timeout=30)
    assert r.status_code == 200 and "openapi" in r.json()
    # ... and `up` loaded both courses into it, each release checked in a sandbox run
    # from inside the hub's container
    assert "python-foundations: 9 assignment(s) released" in out_err
    assert "data-analysis-pandas: 3 assignment(s) released" in out_err
    alan = requests.post(f"{api}/users/alan/tokens", headers=h, json={}, timeout=10).json()
    r = requests.get(
        f"http://grader--service.localhost:{port}/services/grader/api/courses/"
        "python-foundations/assignments",
        headers={"Authorization": f"token {alan['token']}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert len(r.json()) == 9 and all(a["status"] == "not submitted" for a in r.json())

    start_server(api, h, "grace")
    user_token = requests.post(f"{api}/users/grace/tokens", headers=h, json={}, timeout=10
                               ).json()["token"]
    uh = {"Authorization": f"token {user_token}"}
    url = f"http://grace.localhost:{port}/user/grace/api/contents/kept.txt"
    r = requests.put(url, headers=uh, timeout=10,
                     json={"type": "file", "format": "text", "content": "still here"})
    assert r.status_code in (200, 201), r.text

    studio(env, "down")
    prefix = env["STUDIO_PREFIX"]
    listed = subprocess.run(["docker", "ps", "-aq", "--filter", f"name=^{prefix}-"],
                            capture_output=True, text=True).stdout.split()
    assert listed == [], "learner containers survived ./studio down"

    assert "python-foundations: up to date" in studio(env, "up").stderr
    start_server(api, h, "grace")
    assert requests.get(url, headers=uh, timeout=10).json()["content"] == "still here"
