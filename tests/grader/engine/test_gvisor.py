"""Grading under gVisor (``c.DockerSandbox.runtime = "runsc"``): same scores, same containment.

Runs wherever Debian's ``runsc`` is installed, and always in CI (``./studio test`` installs it
and registers it with Docker); skipped only on a machine without it, outside CI.
"""

from __future__ import annotations

import asyncio
import os
import shutil

import nbfactory as f
import pytest
from conftest import engine_config, leftover_sandboxes

# The hostile suite's tests, collected here a second time: they run against this module's
# ``hostile`` fixture, whose sandboxes run under gVisor.
from test_hostile import (  # noqa: F401
    grade_hostile,
    test_disk_fill_stays_in_the_sandbox,
    test_endless_loop_is_stopped_by_the_wall_clock,
    test_exits_are_explained,
    test_fork_bomb_is_contained,
    test_hidden_tests_are_not_readable,
    test_hostile_submission_is_graded,
    test_memory_bomb_is_killed_with_a_message,
    test_next_submission_grades_normally,
    test_no_network,
    test_output_floods_are_cut,
    test_sandboxes_are_removed,
    test_test_cells_cannot_be_overwritten,
)

from grader.engine.autograde import autograde_async
from grader.engine.release import build_release
from grader.engine.sandbox import (
    DockerSandbox,
    SandboxKernelManager,
    SandboxPool,
    SandboxUnavailable,
)

RUNTIME = "runsc"

pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("runsc") is None and not os.environ.get("CI"),
        reason="gVisor (runsc) is not installed here (Debian: apt-get install runsc; "
        "./studio test installs and registers it)"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, docker_client):
    yield from grade_hostile(tmp_path_factory, docker_client, runtime=RUNTIME)


def _scores(result) -> dict:
    data = result.to_json()
    cells = {(nb, gid): c.score for nb, r in result.notebooks.items() for gid, c in r.cells.items()}
    return {"score": data["score"], "max": data["max_score"], "cells": cells,
            "messages": result.messages}


@pytest.fixture(scope="module")
def both_runtimes(tmp_path_factory, docker_client):
    tmp = tmp_path_factory.mktemp("gvisor")
    build = build_release(f.reference_assignment(tmp / "source" / "ps1"))
    student = tmp / "student"
    build.write_student_version(student)
    subs = {name: f.submission_from(student, tmp / "subs" / name, answers)
            for name, answers in (("correct", f.CORRECT), ("wrong", f.WRONG),
                                  ("blank", {}))}

    async def grade(runtime: str):
        c = engine_config(timeout=10)
        c.DockerSandbox.runtime = runtime
        pool = SandboxPool(config=c, warm=1, concurrency=1)
        try:
            out = {}
            for name, sub in subs.items():
                out[name] = await autograde_async(build, sub, pool, config=c)
            return out
        finally:
            await pool.close()

    results = {rt: asyncio.run(grade(rt)) for rt in ("", RUNTIME)}
    yield results
    shutil.rmtree(tmp, ignore_errors=True)


def test_reference_assignment_grades_the_same_under_gvisor(both_runtimes):
    default, gvisor = both_runtimes[""], both_runtimes[RUNTIME]
    for name in ("correct", "wrong", "blank"):
        assert _scores(gvisor[name]) == _scores(default[name]), name
    assert default["correct"].to_json()["score"] == 6.5
    assert default["wrong"].to_json()["score"] < 6.5
    assert default["correct"].messages == []


async def _run(kc, code: str, during=None) -> tuple[str, str]:
    """Execute code in a kernel: (its stdout, the name of its error or "")."""
    msg_id = kc.execute(code)
    if during is not None:
        await during()
    text, error = "", ""
    while True:
        msg = await kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        if msg["msg_type"] == "error":
            error = msg["content"]["ename"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return text, error


def test_sandbox_runs_under_gvisor(docker_client):
    runner = DockerSandbox(config=engine_config(), runtime=RUNTIME)

    async def interrupt_soon():
        await asyncio.sleep(1)
        await SandboxKernelManager(sandbox, 0).interrupt_kernel()

    async def use():
        nonlocal sandbox
        sandbox = await runner.start(1)
        kc = sandbox.clients[0]
        uname = await _run(kc, "import os; print(os.uname().release, os.getuid())")
        # the cell timeout's interrupt reaches the busy kernel through gVisor
        interrupted = await _run(kc, "import time\nwhile True:\n    time.sleep(0.05)",
                                 during=interrupt_soon)
        after = await _run(kc, "print('still here')")
        return uname, interrupted, after

    sandbox = None
    try:
        (text, _), interrupted, after = asyncio.run(use())
        assert sandbox.container.attrs["HostConfig"]["Runtime"] == RUNTIME
        assert runner.gvisor and runner.gvisor_problem() is None  # registered with host-uds
        # gVisor's own kernel answers uname, not the host's
        assert text.split()[0] != os.uname().release, text
        assert text.split()[1] == "1000"
        assert interrupted == ("", "KeyboardInterrupt")
        assert after == ("still here\n", "")
        assert sandbox.ipc.stat().st_uid == 0 and oct(sandbox.ipc.stat().st_mode)[-3:] == "755"
        # the pids limit leaves room for gVisor's own threads (2 x 128 + 64 per kernel)
        assert sandbox.container.attrs["HostConfig"]["PidsLimit"] == 2 * 128 + 64
    finally:
        if sandbox is not None:
            sandbox.remove()
    assert sandbox.name not in leftover_sandboxes(docker_client)
    assert not sandbox.dir.exists()


def test_an_unknown_runtime_says_how_to_register_it(docker_client):
    runner = DockerSandbox(config=engine_config(), runtime="no-such-runtime")
    with pytest.raises(SandboxUnavailable) as e:
        runner.check_available()
    assert "no runtime 'no-such-runtime'" in str(e.value) and "daemon.json" in str(e.value)

    async def start():
        return await runner.start(1)

    # a grader that never checked (the service) gets the same advice from the first start
    with pytest.raises(SandboxUnavailable, match="daemon.json"):
        asyncio.run(start())
    assert not runner.live  # the failed sandbox was cleaned up
