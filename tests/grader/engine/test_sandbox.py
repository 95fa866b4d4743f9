"""Sandbox containers: their limits, and cleanup that spares other graders' sandboxes."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from conftest import PREFIX, engine_config

from grader.engine.sandbox import OWNER, OWNER_LABEL, DockerSandbox, SandboxError

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


def _sandboxes(docker_client) -> list:
    return docker_client.containers.list(all=True, filters={"name": PREFIX})


def test_kernels_that_do_not_answer_in_time_get_one_more_sandbox(docker_client, caplog):
    """A machine busy for a moment: the first sandbox's kernels miss startup_timeout, a
    second sandbox is started and used; nothing of the first is left behind."""
    from grader.engine import sandbox as module

    runner = DockerSandbox(config=engine_config())
    real, calls = module.Sandbox.wait_ready, []

    async def slow_once(self, timeout):
        calls.append(self.name)
        if len(calls) == 1:
            return await real(self, 0.001)  # as if the kernels took longer than allowed
        return await real(self, timeout)

    module.Sandbox.wait_ready = slow_once
    try:
        sandbox = asyncio.run(runner.start(1))
    finally:
        module.Sandbox.wait_ready = real
    try:
        assert len(calls) == 2 and sandbox.name == calls[1]
        assert "did not start within" in caplog.text and "attempt 2 of 2" in caplog.text
        assert [c.name for c in _sandboxes(docker_client)] == [sandbox.name]
    finally:
        sandbox.remove()


def test_kernels_that_never_answer_fail_after_the_last_attempt(docker_client):
    config = engine_config()
    config.DockerSandbox.startup_timeout = 0.001
    config.DockerSandbox.start_attempts = 2
    runner = DockerSandbox(config=config)
    with pytest.raises(SandboxError) as info:
        asyncio.run(runner.start(1))
    assert "did not start within 0 s" in str(info.value)
    assert _sandboxes(docker_client) == []
