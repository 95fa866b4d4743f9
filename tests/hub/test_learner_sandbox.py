"""A real hub, proxy and Docker engine: spawning, hardening, isolation, persistence."""

import textwrap

import pytest
import requests
from stack import run_code

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]


def test_spawn_run_code_through_the_proxy(stack):
    stack.spawn("alan")
    token = stack.user_token("alan")
    assert run_code(stack.server_url("alan"), token, "print(6 * 7)").strip() == "42"


def test_learner_server_has_its_own_origin(stack):
    stack.spawn("alan")
    ready = stack.follow_progress("alan")
    # user servers live on <name>.<host>, never on the hub's origin
    assert ready["url"].startswith(f"http://alan.localhost:{stack.port}/user/alan/")
    r = requests.get(f"{stack.public_url}/user/alan/api", allow_redirects=False, timeout=10)
    assert r.status_code in (302, 404) and "alan.localhost" not in r.headers.get("Location", "x")


def test_container_is_hardened(stack):
    stack.spawn("alan")
    info = stack.container("alan").attrs
    host = info["HostConfig"]
    assert info["Config"]["User"] == "1000:1000"
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Privileged"] is False
    assert host["ReadonlyRootfs"] is True
    assert host["Memory"] == 1024**3
    assert host["CpuQuota"] == 100_000 and host["CpuPeriod"] == 100_000
    assert host["PidsLimit"] == 256
    # its log is rotated (STUDIO_LOG_MAX_SIZE / STUDIO_LOG_MAX_FILES, default 10m x 5)
    assert host["LogConfig"] == {"Type": "json-file",
                                 "Config": {"max-size": "10m", "max-file": "5"}}
    # the operator's config.d/hub file (tests/hub/conftest.py) ran after the hub's config
    assert "STUDIO_TEST_FROM_CONFIG_D=hub/10-env.py" in info["Config"]["Env"]
    # only the learner's own home volume: no host paths, no Docker socket
    mounts = info["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [
        ("volume", f"{stack.prefix}-home-alan", "/home/learner")
    ]
    assert list(info["NetworkSettings"]["Networks"]) == [f"{stack.prefix}-learners"]
    uid = stack.container("alan").exec_run(["id", "-u"]).output.decode().strip()
    assert uid == "1000"
    # the root file system cannot be written, even where a user could otherwise
    r = stack.container("alan").exec_run(["sh", "-c", "touch /opt/studio/x; echo rc=$?"])
    assert b"Read-only file system" in r.output


PROBE = textwrap.dedent("""
    import socket, sys
    s = socket.socket(); s.settimeout(float(sys.argv[3]))
    try:
        s.connect((sys.argv[1], int(sys.argv[2]))); print("open")
    except OSError as e:
        print("closed", type(e).__name__)
""")


def _connects(container, ip, port, timeout=1.5) -> bool:
    out = container.exec_run(["python3", "-c", PROBE, ip, str(port), str(timeout)]).output
    return out.decode().startswith("open")


def test_learner_network_is_closed(stack, outside_world):
    stack.spawn("alan")
    stack.spawn("grace")
    alan, grace = stack.container("alan"), stack.container("grace")
    grace.reload()
    grace_ip = grace.attrs["NetworkSettings"]["Networks"][f"{stack.prefix}-learners"]["IPAddress"]
    net = stack.docker.networks.get(f"{stack.prefix}-learners")
    gateway = net.attrs["IPAM"]["Config"][0]["Gateway"]

    # reaches the hub ...
    assert _connects(alan, gateway, stack.hub_port)
    # ... but not the internet, the metadata address, or another learner
    assert not _connects(alan, outside_world["internet"], 80)
    assert not _connects(alan, outside_world["metadata"], 80)
    assert not _connects(alan, grace_ip, 8888)
    # and there is no Docker socket to talk to
    r = alan.exec_run(["sh", "-c", "ls -l /var/run/docker.sock /run/docker.sock 2>&1"])
    assert b"No such file" in r.output


def test_learner_cannot_reach_another_learners_server_or_api(stack):
    stack.spawn("alan")
    stack.spawn("grace")
    alan_token = stack.user_token("alan")
    h = {"Authorization": f"token {alan_token}"}
    # grace's server, through the proxy, with alan's credentials
    r = requests.get(f"{stack.server_url('grace')}api/contents", headers=h, timeout=10,
                     allow_redirects=False)
    assert r.status_code in (302, 403, 404), r.status_code
    assert "content" not in r.text
    # grace's record and server on the hub API
    assert requests.get(stack.hub_api("users/grace"), headers=h, timeout=10).status_code in (403, 404)
    r = requests.delete(stack.hub_api("users/grace/server"), headers=h, timeout=10)
    assert r.status_code in (403, 404)
    # and alan's token still works on alan's own server (the refusals above are not noise)
    r = requests.get(f"{stack.server_url('alan')}api/contents", headers=h, timeout=10)
    assert r.status_code == 200


def test_files_survive_stop_start_and_hub_restart(stack):
    stack.spawn("grace")
    token = stack.user_token("grace")
    h = {"Authorization": f"token {token}"}
    url = f"{stack.server_url('grace')}api/contents/notes.txt"
    r = requests.put(url, headers=h, timeout=10,
                     json={"type": "file", "format": "text", "content": "my work"})
    assert r.status_code in (200, 201), r.text

    stack.stop_server("grace")
    # the container is gone, the home volume stays
    assert not stack.docker.containers.list(all=True, filters={"name": f"^{stack.prefix}-grace$"})
    stack.docker.volumes.get(f"{stack.prefix}-home-grace")

    stack.spawn("grace")
    r = requests.get(url, headers=h, timeout=10)
    assert r.json()["content"] == "my work"

    # a hub restart leaves the running server alone and reachable
    stack.stop_hub()
    r = requests.get(url, headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["content"] == "my work"
    stack.start_hub()
    assert stack.admin("GET", "users/grace").json()["servers"][""]["ready"] is True
    assert requests.get(url, headers=h, timeout=10).json()["content"] == "my work"
    # and the hub still manages it: stop and start again after the restart
    stack.stop_server("grace")
    stack.spawn("grace")
    assert requests.get(url, headers=h, timeout=10).json()["content"] == "my work"
