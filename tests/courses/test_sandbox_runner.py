"""`course validate` runs notebooks in sandboxes: what the learner image and the sandbox's
limits allow, not what this machine allows, decides whether a course is correct."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from courses_testlib import code_notebook as _nb
from courses_testlib import notebook_outputs as _outputs

from grader.courses.validate import validate_course
from grader.engine.runner import NotebookRunFailed

pytestmark = pytest.mark.docker


def test_each_notebook_gets_a_fresh_sandbox_with_its_files(sandbox_runner, tmp_path):
    (tmp_path / "data.txt").write_text("42")
    first = sandbox_runner(
        _nb("import os, sys; (os.getuid(), sys.prefix, os.getcwd())",
            "open('data.txt').read()", "secret = 'from the solution run'",
            "open('/tmp/left-behind', 'w').write('x')"),
        tmp_path,
    )
    uid_prefix_cwd, data = (o["data"]["text/plain"] for o in _outputs(first)[:2])
    # the learner image's Python, as the learner user, in a scratch copy of the folder
    assert uid_prefix_cwd == "(1000, '/opt/studio', '/home/learner/course')"
    assert data == "'42'"
    second = sandbox_runner(
        _nb("secret", "import os; os.path.exists('/tmp/left-behind')"), tmp_path
    )
    outputs = _outputs(second)
    assert outputs[0]["ename"] == "NameError"  # no kernel state carried over
    assert outputs[1]["data"]["text/plain"] == "False"  # nor files


def test_sandbox_has_no_network(sandbox_runner, tmp_path):
    """A notebook that reaches this machine over loopback works on the host, not here."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
        accepted.start()
        executed = sandbox_runner(
            _nb(f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)"),
            tmp_path,
        )
    assert _outputs(executed)[0]["ename"] in {"ConnectionRefusedError", "OSError", "TimeoutError"}


def test_a_solution_that_only_passes_on_the_host_is_caught(course_copy, sandbox_runner):
    """The reference answer reads a file by its path on the instructor's machine: the host
    runner is fooled, the sandbox (where learners are graded) is not."""
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    outside = copy.root.parent / "outside.txt"
    outside.write_text("Python")
    nb = copy.notebook("ps01-values-and-strings")
    cell = copy.cell(nb, "shout")
    cell.source = cell.source.replace(
        "### BEGIN SOLUTION",
        f"### BEGIN SOLUTION\nword = open({str(outside)!r}).read().lower()",
        1,
    )
    copy.save("ps01-values-and-strings", nb)
    on_host = validate_course(copy.root, execute_lessons=False)
    assert on_host.ok, on_host.summary()
    assert "by an absolute path" in "\n".join(str(w) for w in on_host.warnings)
    in_sandbox = validate_course(copy.root, execute_lessons=False, runner=sandbox_runner)
    problems = "\n".join(str(p) for p in in_sandbox.problems)
    assert "(solution), cell 'shout-tests': the solution fails this test" in problems
    assert "FileNotFoundError" in problems
    assert "a file the notebook reads is missing" in problems


def test_an_endless_cell_times_out(sandbox_config, tmp_path: Path):
    from grader.engine.runner import SandboxNotebookRunner

    with SandboxNotebookRunner(warm=0, cell_timeout=2, config=sandbox_config) as runner:
        executed = runner(_nb("while True: pass", "print('next cell still runs')"), tmp_path)
    outputs = _outputs(executed)
    # nbgrader's Execute interrupts the kernel on a timeout (the cell ends in an error)
    assert outputs[0]["ename"] in {"KeyboardInterrupt", "CellTimeoutError"}
    assert outputs[-1]["text"] == "next cell still runs\n"


def test_the_sandbox_runner_needs_root_and_says_so(monkeypatch, sandbox_config):
    """Sandboxes hand their socket folder to the learner user and take it back: root only."""
    from grader.engine.runner import SandboxNotebookRunner
    from grader.engine.sandbox import SandboxUnavailable

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable) as raised:
        SandboxNotebookRunner(config=sandbox_config)
    message = str(raised.value)
    assert "sandboxes must be started as root, like the grader service" in message
    assert "Or pass --runner host" in message


def test_a_kernel_the_sandbox_does_not_have_is_named(sandbox_runner, tmp_path):
    nb = _nb("1 + 1")
    nb.metadata["kernelspec"] = {"name": "ir", "language": "R", "display_name": "R"}
    with pytest.raises(NotebookRunFailed, match="asks for kernel 'ir'; sandboxes .* run python3 only"):
        sandbox_runner(nb, tmp_path)
