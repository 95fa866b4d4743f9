"""Releases: nbgrader's student version, master cells, serialisation, and the sandbox check."""

from __future__ import annotations

import json

import nbfactory as f
import pytest
from conftest import engine_config

from grader.engine.check import check_release
from grader.engine.release import ReleaseBuild, ReleaseError, build_release


@pytest.fixture
def source(tmp_path):
    return f.reference_assignment(tmp_path / "source" / "ps1")


def test_student_version_has_no_solutions_or_hidden_tests(source, tmp_path):
    build = build_release(source)
    assert build.assignment == "ps1"
    assert sorted(build.notebooks) == ["problem1", "problem2"]
    student = json.dumps([nb.student for nb in build.notebooks.values()])
    assert "BEGIN SOLUTION" not in student and "i * i" not in student
    assert "BEGIN HIDDEN TESTS" not in student and "[-1] == 81" not in student
    # the master keeps what grading restores, with nbgrader's checksums and points
    hidden = build.notebooks["problem1"].cells["test_squares_hidden"]
    assert "[-1] == 81" in hidden.source and hidden.locked and hidden.checksum
    assert build.notebooks["problem2"].cells["task_plot"].task
    assert build.max_score == 10.0
    out = tmp_path / "student"
    build.write_student_version(out)
    assert (out / "data" / "numbers.csv").read_text() == "1 2 3 4\n"
    assert sorted(p.name for p in out.glob("*.ipynb")) == ["problem1.ipynb", "problem2.ipynb"]


def test_release_round_trips_through_json(source, tmp_path):
    build = build_release(source)
    again = ReleaseBuild.from_json(json.loads(json.dumps(build.to_json())))
    assert again.to_json() == build.to_json()
    build.write(tmp_path / "blob")
    assert ReleaseBuild.read(tmp_path / "blob").files == {"data/numbers.csv": b"1 2 3 4\n"}


def test_bad_sources_are_named(tmp_path):
    with pytest.raises(ReleaseError, match="does not exist"):
        build_release(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReleaseError, match="No notebooks"):
        build_release(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.ipynb").write_text("{not json")
    with pytest.raises(ReleaseError, match="broken.ipynb is not a valid notebook"):
        build_release(bad)
    dup = tmp_path / "dup"
    f.write(f.notebook(f.test("t1", "assert True", 1), f.test("t1", "assert True", 1)),
            dup / "dup.ipynb")
    with pytest.raises(ReleaseError, match="dup.ipynb"):
        build_release(dup)
    auto = tmp_path / "auto"
    f.write(f.notebook(f.test("t1", "### AUTOTEST squares(3)", 1)), auto / "auto.ipynb")
    with pytest.raises(ReleaseError, match="AUTOTEST"):
        build_release(auto)


@pytest.mark.docker
def test_check_release_finds_tests_that_do_not_discriminate(source, docker_client):
    # a test any version passes, and a test the solution fails
    nb = f.read(source / "problem2.ipynb")
    nb.cells.append(f.test("test_trivial", "assert True", 1))
    nb.cells.append(f.test("test_wrong", "assert total('data/numbers.csv') == 11", 1))
    f.write(nb, source / "problem2.ipynb")
    build = build_release(source)
    report = check_release(build, config=engine_config())
    assert not report.ok
    assert report.non_discriminating == ["problem2/test_trivial"]
    # test_partial gives the solution 0.5 of 1 on purpose (partial credit): flagged too
    assert report.failing_in_source == ["problem2/test_partial", "problem2/test_wrong"]
    assert any("does not tell a solution from none" in m for m in report.messages)
    src = report.source_result.notebooks["problem1"].cells
    assert src["test_squares"].score == 2 and src["test_squares_hidden"].score == 1
