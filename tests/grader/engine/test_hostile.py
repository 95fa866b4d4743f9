"""Hostile submissions: each is graded, contained, explained, and the next one grades normally."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import resource
import shutil
import socket
import threading
from pathlib import Path

import nbfactory as f
import pytest
from conftest import WORK_ROOT, engine_config, leftover_sandboxes

from grader.engine.autograde import autograde_async
from grader.engine.release import build_release
from grader.engine.sandbox import SandboxPool

pytestmark = [pytest.mark.docker, pytest.mark.slow]

HIDDEN_SNIPPET = "squares(BASE)[-1] == 81"  # the hidden test's code in the reference assignment
WALL = 10.0


def _config(runtime: str = ""):
    c = engine_config(timeout=4)
    c.DockerSandbox.runtime = runtime
    c.DockerSandbox.mem_limit = "256m"
    c.DockerSandbox.pids_limit = 64
    c.SandboxPool.wall_timeout = WALL
    c.SandboxPool.output_limit = 2 * 1024 * 1024
    c.DockerSandbox.max_message_size = 16 * 1024 * 1024
    return c


SQUARES_OK = f.CORRECT["problem1"]["squares"]

HOSTILE = {
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "memory_bomb": "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))",
    "disk_fill": (
        "import os\nresults = {}\n"
        "for target in ('/home/learner/fill', '/tmp/fill', '/sandbox/ipc/fill', '/fill',\n"
        "               '/sandbox/inbox/files/fill'):\n"
        "    try:\n"
        "        with open(target, 'wb') as fh:\n"
        "            for _ in range(1000):\n"
        "                fh.write(b'0' * 1024 * 1024)\n"
        "        results[target] = 'wrote'\n"
        "    except OSError as e:\n"
        "        results[target] = e.__class__.__name__ + ':' + str(e.errno)\n"
        "print('DISK', sorted(results.items()))\n" + SQUARES_OK
    ),
    "infinite_loop_ignoring_interrupt": (
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    ),
    "network": (
        "import socket\nprint('IFACES', [n for _, n in socket.if_nameindex()])\n"
        "try:\n    socket.create_connection((GATEWAY, PORT), timeout=3)\n    print('NET connected')\n"
        "except OSError as e:\n    print('NET refused', e.errno)\n" + SQUARES_OK
    ),
    "read_hidden_tests": (
        "import os\nfound = []\n"
        "for root, dirs, files in os.walk('/'):\n"
        "    if root.startswith(('/proc', '/sys', '/dev', '/opt/studio', '/usr')):\n"
        "        dirs[:] = []\n        continue\n"
        "    for name in files:\n"
        "        p = os.path.join(root, name)\n"
        "        try:\n"
        "            with open(p, 'rb') as fh:\n"
        "                data = fh.read(5_000_000)\n"
        "        except OSError:\n            continue\n"
        "        if b'HIDDEN TESTS' in data or b'[-1] == 81' in data:\n"
        "            found.append(p)\n"
        "print('FOUND', found)\n" + SQUARES_OK
    ),
    "overwrite_tests": (
        "import glob, os, json\n"
        "for p in glob.glob('/**/*.ipynb', recursive=True):\n"
        "    try:\n        open(p, 'w').write('{}')\n    except OSError:\n        pass\n"
        "def squares(n):\n    return list(range(n))"
    ),
    "sys_exit": "import sys\nsys.exit(1)",
    "kill_the_launcher": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "os_exit": "import os\nos._exit(0)",
    "patch_builtins": (
        "import builtins\n"
        "builtins.AssertionError = type('Harmless', (Exception,), {})\n"
        "builtins.print = lambda *a, **k: None\n"
        "builtins.__import__ = None if False else builtins.__import__\n"
        "def squares(n):\n    return list(range(n))"
    ),
    "huge_output": "while True:\n    print('x' * 10000)",
    # Output beyond the budget is cut, not failed: the cell goes on and the answer counts.
    "huge_print_then_answer": "print('x' * 10_000_000)\n" + SQUARES_OK,
    # One message over DockerSandbox.max_message_size (set to 16 MB here) stops the sandbox.
    "oversized_message": "import sys\nsys.stdout.write('m' * 20_000_000)\nsys.stdout.flush()\n"
                         + SQUARES_OK,
    # A kernel that stops itself is resumed by the cell timeout's interrupt: the answer it
    # defined first still counts.
    "sigstop": SQUARES_OK + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGSTOP)",
    "close_std_streams": (
        "import os\nfor fd in (0, 1, 2):\n    os.close(fd)\nprint('still here')\n"
    ) + SQUARES_OK,
    # Threads that spin and print after their cell ended.
    "threads_left_spinning": (
        "import threading, time\n"
        "def spin():\n    while True:\n        pass\n"
        "def talk():\n    while True:\n        print('still talking')\n        time.sleep(0.05)\n"
        "for target in (spin, spin, talk):\n"
        "    threading.Thread(target=target, daemon=True).start()\n"
    ) + SQUARES_OK,
    "one_huge_message": "print('y' * (40 * 1024 * 1024))",
    # Floods of messages that are not outputs: each replaces what it updates, so a grader
    # that counted only stream/display outputs would hold every last update (gigabytes).
    "update_display_flood": (
        "from IPython.display import display\n"
        "handles = [display('x', display_id=True) for _ in range(400)]\n"
        "for h in handles:\n    h.update('u' * 200000)"
    ),
    "comm_flood": (
        "from ipykernel.comm import Comm\n"
        "comm = Comm(target_name='flood')\n"
        "for _ in range(400):\n    comm.send({'d': 'c' * 200000}, buffers=[b'b' * 200000])"
    ),
}


def _gateway(docker_client) -> str:
    """The host's address on Docker's default bridge (where our listener waits)."""
    config = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    return config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, docker_client):
    yield from grade_hostile(tmp_path_factory, docker_client, runtime="")


def grade_hostile(tmp_path_factory, docker_client, runtime: str):
    """Grade every HOSTILE submission (two at a time) and then a correct one, with sandboxes
    of the given OCI runtime (test_gvisor.py runs the same tests under gVisor)."""
    tmp = tmp_path_factory.mktemp("hostile")
    source = f.reference_assignment(tmp / "source" / "ps1")
    build = build_release(source)
    student = tmp / "student"
    build.write_student_version(student)

    # A listener of our own on the host: the "network" submission must not reach it.
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(5)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    accepted: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()

    subs = {}
    for name, code in HOSTILE.items():
        code = code.replace("GATEWAY", repr(_gateway(docker_client))).replace("PORT", str(port))
        answers = json.loads(json.dumps(f.CORRECT))
        answers["problem1"]["squares"] = code
        subs[name] = f.submission_from(student, tmp / "subs" / name, answers)
    subs["after"] = f.submission_from(student, tmp / "subs" / "after", f.CORRECT)

    async def run():
        pool = SandboxPool(config=_config(runtime), warm=2, concurrency=2)
        try:
            results = await asyncio.gather(*(
                autograde_async(build, subs[n], pool, config=_config(runtime)) for n in HOSTILE))
            after = await autograde_async(build, subs["after"], pool, config=_config(runtime))
        finally:
            await pool.close()
        return dict(zip(HOSTILE, results, strict=True)), after

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results, after = asyncio.run(run())
    rss_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    stop.set()
    server.close()
    yield {"results": results, "after": after, "accepted": accepted, "docker": docker_client,
           "rss_growth_mib": rss_growth_mib, "runtime": runtime}
    shutil.rmtree(tmp, ignore_errors=True)


def _outputs(result, grade_id="squares") -> str:
    nb = result.notebooks["problem1"].graded_notebook
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return json.dumps(cell.get("outputs", []))
    raise KeyError(grade_id)


def _p1(result, gid):
    return result.notebooks["problem1"].cells[gid].score


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_is_graded(hostile, name):
    result = hostile["results"][name]
    data = result.to_json()
    assert data["max_score"] == 10.0
    # problem2 is correct in every hostile submission and runs in its own kernel
    p2 = result.notebooks["problem2"]
    # (a fork bomb's or an endless loop's leftovers may starve it: same learner, same box)
    # Output floods and the wall clock kill the whole sandbox, and say so; so does a
    # submission that kills the sandbox's own launcher.
    stops_sandbox = ("infinite_loop_ignoring_interrupt", "huge_output", "one_huge_message",
                     "oversized_message", "update_display_flood", "comm_flood",
                     "kill_the_launcher")
    if hostile["runtime"] == "runsc":
        # under gVisor the memory limit kills gVisor's own process: the whole sandbox
        stops_sandbox += ("memory_bomb",)
    if name in stops_sandbox:
        if p2.cells["test_total"].score != 3.0:
            assert p2.messages, "a notebook that did not run says why"
    elif name not in ("fork_bomb", "disk_fill"):
        assert p2.cells["test_total"].score == 3.0, p2.messages
    # nobody gets the points of problem1's test by attacking the grader
    if name not in ("disk_fill", "network", "read_hidden_tests", "huge_print_then_answer",
                    "sigstop", "close_std_streams", "threads_left_spinning"):
        assert _p1(result, "test_squares") == 0.0
    # a hostile submission is graded, not sent to review: it did not forge a verdict
    assert result.review_reasons == [], result.review_reasons
    # nothing of the hidden tests comes back to the learner
    assert HIDDEN_SNIPPET not in json.dumps(data)
    for nb in result.notebooks.values():
        assert HIDDEN_SNIPPET not in nb.feedback_html
        assert HIDDEN_SNIPPET not in json.dumps(nb.learner_notebook or {})
    # the time bound: the sandbox's wall clock, with the removal after it
    assert result.timings["run"] < WALL + 15, result.timings


def test_grader_memory_stays_bounded(hostile):
    # every flood above went through this process: it held none of them
    assert hostile["rss_growth_mib"] < 600, hostile["rss_growth_mib"]


def test_memory_bomb_is_killed_with_a_message(hostile):
    r = hostile["results"]["memory_bomb"]
    assert any("out of memory" in m for m in r.messages), r.messages


def test_fork_bomb_is_contained(hostile):
    r = hostile["results"]["fork_bomb"]
    # the cell ends at the cell timeout or the pids limit: either way an error, graded 0
    assert _p1(r, "test_squares") == 0.0
    assert r.notebooks["problem1"].cells["test_squares_hidden"].score == 0.0


def test_disk_fill_stays_in_the_sandbox(hostile):
    r = hostile["results"]["disk_fill"]
    out = _outputs(r)
    assert "'/home/learner/fill', 'OSError:28'" in out  # tmpfs full (ENOSPC)
    # read-only root and inbox: EROFS; gVisor checks the permission first (EACCES)
    refused = "PermissionError:13" if hostile["runtime"] == "runsc" else "OSError:30"
    assert f"'/fill', '{refused}'" in out
    assert "'/sandbox/ipc/fill', 'PermissionError:13'" in out  # taken back by the grader
    assert f"'/sandbox/inbox/files/fill', '{refused}'" in out
    assert _p1(r, "test_squares") == 2.0  # and the answer still grades


def test_endless_loop_is_stopped_by_the_wall_clock(hostile):
    r = hostile["results"]["infinite_loop_ignoring_interrupt"]
    assert any(f"{WALL:.0f} s limit" in m for m in r.messages), r.messages
    assert r.score == 0


def test_no_network(hostile):
    r = hostile["results"]["network"]
    out = _outputs(r)
    assert "IFACES [\\\"lo\\\"]" in out or "IFACES ['lo']" in out, out
    assert "NET refused" in out
    assert hostile["accepted"] == []


def test_hidden_tests_are_not_readable(hostile):
    r = hostile["results"]["read_hidden_tests"]
    out = _outputs(r)
    assert "FOUND []" in out, out
    # and the feedback a learner sees does not show them either
    for nb in r.notebooks.values():
        assert HIDDEN_SNIPPET not in nb.feedback_html


def test_test_cells_cannot_be_overwritten(hostile):
    r = hostile["results"]["overwrite_tests"]
    assert _p1(r, "test_squares") == 0.0
    assert _p1(r, "test_squares_hidden") == 0.0


def test_exits_are_explained(hostile):
    assert any("kernel died" in m for m in hostile["results"]["os_exit"].messages)
    assert any("kernel died" in m for m in hostile["results"]["kill_the_launcher"].messages)
    # sys.exit is caught by IPython, as in nbgrader: an error in the cell, no kernel death
    assert "SystemExit" in _outputs(hostile["results"]["sys_exit"])


def test_output_floods_are_cut(hostile):
    for name in ("huge_output", "update_display_flood", "comm_flood"):
        r = hostile["results"][name]
        # output beyond the budget dropped; or, when the kernel buffers faster than the
        # grader reads, the kernel stopped by its own memory limit, or its buffered prints
        # sent as one message over the maximum size: either way explained
        explained = ["output beyond 2 MB was dropped", "out of memory", "larger than 16 MB"]
        if hostile["runtime"] == "runsc" and name == "huge_output":
            # gVisor's kernel kills a process over the sandbox's memory limit itself:
            # Docker never marks the container OOMKilled, so the grader says the kernel died
            explained.append("The kernel died")
        assert any(e in m for e in explained for m in r.messages), (name, r.messages)
        size = len(json.dumps(r.notebooks["problem1"].graded_notebook))
        assert size < 4 * 1024 * 1024
        if name != "huge_output":  # fixed-size messages: cut, and the next notebook runs
            assert r.notebooks["problem2"].cells["test_total"].score == 3.0, r.messages


def test_output_beyond_the_budget_is_dropped_and_the_cell_goes_on(hostile):
    """A 10 MB print past a 2 MB budget, then a correct answer in the same cell: the
    answer earns its points (as under stock nbgrader; test_parity's huge_print compares)."""
    r = hostile["results"]["huge_print_then_answer"]
    assert _p1(r, "test_squares") == 2.0
    assert r.notebooks["problem1"].cells["test_squares_hidden"].score == 1.0
    assert r.to_json()["score"] == 6.5
    assert any("output beyond 2 MB was dropped" in m and "went on running" in m
               for m in r.messages), r.messages
    assert "[output beyond 2 MB was dropped]" in _outputs(r)
    assert len(json.dumps(r.notebooks["problem1"].graded_notebook)) < 1024 * 1024


def test_an_oversized_message_stops_the_sandbox_with_a_message(hostile):
    # 20 MB and 40 MB in one message, over DockerSandbox.max_message_size (16 MB here):
    # ZeroMQ cuts the connection; the grader notices at once instead of at a timeout
    for name in ("oversized_message", "one_huge_message"):
        r = hostile["results"][name]
        assert any("larger than 16 MB" in m and "max_message_size" in m
                   for m in r.messages), (name, r.messages)
        assert "SandboxStopped" in _outputs(r)
        assert not any("CellTimeoutError" in m or "s limit" in m for m in r.messages)


def test_a_kernel_that_stops_itself_is_resumed(hostile):
    """SIGSTOP: the cell timeout's interrupt sends SIGCONT first, so the kernel goes on;
    the answer it defined before stopping counts, the stopped cell shows a timeout."""
    r = hostile["results"]["sigstop"]
    assert "CellTimeoutError" in _outputs(r)
    assert _p1(r, "test_squares") == 2.0
    assert r.notebooks["problem2"].cells["test_total"].score == 3.0
    assert r.messages == []


def test_closed_standard_streams_do_not_stop_grading(hostile):
    r = hostile["results"]["close_std_streams"]
    assert "still here" in _outputs(r)
    assert r.to_json()["score"] == 6.5, r.messages


def test_threads_left_spinning_do_not_stop_grading(hostile):
    r = hostile["results"]["threads_left_spinning"]
    assert _p1(r, "test_squares") == 2.0, r.messages
    assert r.to_json()["score"] == 6.5, r.messages


def test_next_submission_grades_normally(hostile):
    assert hostile["after"].to_json()["score"] == 6.5
    assert hostile["after"].messages == []


def test_sandboxes_are_removed(hostile):
    assert leftover_sandboxes(hostile["docker"]) == []
    assert list(Path(WORK_ROOT).iterdir()) == []
