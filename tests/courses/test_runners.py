"""The host runners: a fresh kernel per notebook, in a folder holding the assignment's files."""

from __future__ import annotations

from pathlib import Path

from courses_testlib import code_notebook as _nb
from courses_testlib import notebook_outputs as _outputs

from grader.engine.runner import WarmKernels, run_on_host


def test_warm_kernels_never_share_state_and_see_the_files(tmp_path):
    (tmp_path / "data.txt").write_text("42")
    with WarmKernels(size=2, timeout=30) as warm:
        first = warm(_nb("import os; pid = os.getpid()", "pid", "open('data.txt').read()"),
                     tmp_path)
        second = warm(_nb("import os; os.getpid()", "pid"), tmp_path)
    first_pid = int(_outputs(first)[0]["data"]["text/plain"])
    second_pid = int(_outputs(second)[0]["data"]["text/plain"])
    assert _outputs(first)[1]["data"]["text/plain"] == "'42'"
    # A solution run must never make the student-version run pass.
    assert first_pid != second_pid
    assert _outputs(second)[1]["ename"] == "NameError"
    for pid in (first_pid, second_pid):
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), f"kernel {pid} still runs"


def _is_zombie(pid: int) -> bool:
    return " Z " in Path(f"/proc/{pid}/stat").read_text()


def test_run_on_host_keeps_going_after_an_error(tmp_path):
    executed = run_on_host(_nb("1 / 0", "print('after')"), tmp_path)
    outputs = _outputs(executed)
    assert outputs[0]["ename"] == "ZeroDivisionError"
    assert outputs[1]["text"] == "after\n"  # nbgrader scores every cell on its own outputs
