"""The grader under its own memory limit (hub/grader_container.py), on the real engine.

A stand-in hub: a container of the hub image with the Docker socket, running the launcher
as the hub runs its managed grader service. The "grader" is a command that eats memory:
it is killed in its own container, the hub's container stays up, and the next grader
started the same way runs normally.
"""

import secrets
import time
from pathlib import Path

import docker
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
HUB_IMAGE = "learning-studio/hub:latest"
HOG = ("import time; print('grader up', flush=True); time.sleep(3); "
       "blocks = [bytearray(16 * 2**20) for _ in range(40)]")


def _wait(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def fake_hub():
    client = docker.from_env()
    name = f"lsgc{secrets.token_hex(3)}"
    hub = client.containers.run(
        HUB_IMAGE, name=f"{name}-hub", detach=True, entrypoint=["sleep", "600"],
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
                 str(ROOT / "hub" / "grader_container.py"):
                     {"bind": "/opt/gc/grader_container.py", "mode": "ro"}},
        network_mode="host")
    try:
        yield client, hub, name
    finally:
        for c in client.containers.list(all=True, filters={"name": name}):
            c.remove(force=True)


def _launch(hub, name, *command):
    return hub.exec_run(["python", "/opt/gc/grader_container.py", "--mem-limit=64m",
                         f"--name={name}-grader", "--log-max-size=3m", "--log-max-files=2",
                         "--", *command], demux=True, stream=False)


def test_a_grader_out_of_memory_stops_only_itself(fake_hub):
    client, hub, name = fake_hub
    result = {}

    import threading
    t = threading.Thread(target=lambda: result.update(r=_launch(hub, name, "python", "-c", HOG)))
    t.start()
    grader = _wait(lambda: next(iter(client.containers.list(
        all=True, filters={"name": f"{name}-grader"})), None), what="the grader container")
    host = grader.attrs["HostConfig"]
    assert host["Memory"] == 64 * 2**20 and host["MemorySwap"] == 64 * 2**20
    assert host["PidMode"] == f"container:{hub.id}"
    assert host["NetworkMode"] == "host"
    assert host["VolumesFrom"] == [hub.id]
    # its log is rotated as the hub says (STUDIO_LOG_MAX_SIZE / STUDIO_LOG_MAX_FILES)
    assert host["LogConfig"] == {"Type": "json-file",
                                 "Config": {"max-size": "3m", "max-file": "2"}}
    assert grader.labels["learning-studio.role"] == "grader"
    t.join(120)
    code, (out, err) = result["r"].exit_code, result["r"].output
    out, err = (out or b"").decode(), (err or b"").decode()
    assert code == 137, (code, out, err)  # killed by the kernel's OOM killer
    assert "grader up" in out
    assert "ran out of memory (limit 64m, STUDIO_GRADER_MEM_LIMIT)" in err
    hub.reload()
    assert hub.status == "running"  # the hub's own container is untouched
    assert client.containers.list(all=True, filters={"name": f"{name}-grader"}) == []

    # the hub restarts its service: the next grader starts under the same name and works
    again = _launch(hub, name, "python", "-c", "import os; print('graded', os.getcwd())")
    assert again.exit_code == 0, again.output
    assert "graded" in (again.output[0] or b"").decode()


def test_outside_a_container_the_launcher_says_what_to_do(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, str(ROOT / "hub" / "grader_container.py"),
                           "--mem-limit=1g", "--name=x", "--", "true"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unset STUDIO_GRADER_MEM_LIMIT" in proc.stderr
