"""Which files the notebooks see: the learner's, overwritten by the instructor's (nbgrader)."""

from __future__ import annotations

import nbfactory as f
import pytest
from conftest import engine_config

from grader.engine.autograde import GradeResult, _files_for_sandbox
from grader.engine.release import build_release
from grader.engine.sandbox import DockerSandbox, SandboxError, SandboxPool


def _pool(tmpfs: str) -> SandboxPool:
    return SandboxPool(runner=DockerSandbox(config=engine_config(), tmpfs_size=tmpfs))


def test_instructor_files_win_and_caches_are_ignored(tmp_path):
    build = build_release(f.reference_assignment(tmp_path / "ps1"))
    sub = tmp_path / "sub"
    (sub / "data").mkdir(parents=True)
    (sub / "data" / "numbers.csv").write_text("9 9\n")
    (sub / "helper.py").write_text("X = 1\n")
    (sub / "__pycache__").mkdir()
    (sub / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"stale")
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "problem1-checkpoint.ipynb").write_text("{}")
    result = GradeResult(notebooks={})
    files = _files_for_sandbox(build, sub, _pool("64m"), result)
    assert files == {"data/numbers.csv": b"1 2 3 4\n", "helper.py": b"X = 1\n"}
    assert result.messages == []


def test_files_larger_than_the_sandbox_are_named(tmp_path):
    source = f.reference_assignment(tmp_path / "ps1")
    (source / "big.bin").write_bytes(b"0" * 4096)
    build = build_release(source)
    with pytest.raises(SandboxError, match="raise DockerSandbox.tmpfs_size"):
        _files_for_sandbox(build, tmp_path, _pool("4k"), GradeResult(notebooks={}))
    small = build_release(f.reference_assignment(tmp_path / "ps2"))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "upload.bin").write_bytes(b"0" * 8192)
    result = GradeResult(notebooks={})
    files = _files_for_sandbox(small, sub, _pool("8k"), result)
    assert "upload.bin" not in files and "data/numbers.csv" in files
    assert "were not given to the notebooks" in result.messages[0]
