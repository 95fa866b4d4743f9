"""Sandbox containers: their limits, and cleanup that spares other graders' sandboxes."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from conftest import PREFIX, engine_config

from grader.engine.sandbox import OWNER, OWNER_LABEL, DockerSandbox

pytestmark = [pytest.mark.docker]


def test_sandbox_container_is_locked_down(docker_client):
    runner = DockerSandbox(config=engine_config())

    async def start():
        return await runner.start(1)

    sandbox = asyncio.run(start())
    try:
        host = sandbox.container.attrs["HostConfig"]
        assert host["NetworkMode"] == "none"
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in host["SecurityOpt"]
        assert host["Memory"] == 512 * 1024 * 1024 and host["MemorySwap"] == host["Memory"]
        assert host["PidsLimit"] == 128 and host["NanoCpus"] == 1_000_000_000
        # what a kernel writes to its file descriptors cannot fill the host's disk
        assert host["LogConfig"] == {"Type": "json-file",
                                     "Config": {"max-size": "1m", "max-file": "1"}}
        assert sandbox.container.attrs["Config"]["User"] == "1000:1000"
        # the grader took the socket directory back once the kernel was up
        assert sandbox.ipc.stat().st_uid == 0 and oct(sandbox.ipc.stat().st_mode)[-3:] == "755"
    finally:
        sandbox.remove()
    assert not sandbox.dir.exists()


def test_cleanup_removes_only_sandboxes_of_gone_graders(docker_client):
    proc = subprocess.Popen(["true"])
    proc.wait()
    gone = f"{OWNER.rpartition(':')[0]}:{proc.pid}"
    made = []
    for suffix, owner in (("orphan", gone), ("mine", OWNER)):
        made.append(docker_client.containers.run(
            "learning-studio/learner:latest", ["sleep", "60"], name=f"{PREFIX}{suffix}",
            detach=True, network_mode="none", labels={OWNER_LABEL: owner}))
    try:
        assert DockerSandbox(config=engine_config()).remove_all() == 1
        names = {c.name for c in docker_client.containers.list(all=True,
                                                               filters={"name": PREFIX})}
        assert names == {f"{PREFIX}mine"}
    finally:
        for c in made:
            try:
                c.remove(force=True)
            except Exception:  # noqa: BLE001 - already removed by the cleanup
                pass
