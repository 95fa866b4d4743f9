"""Deliberately broken copies of the real courses: each fault is caught, located and explained."""

from __future__ import annotations

import pytest

from grader.courses.manifest import ManifestError, load_course
from grader.courses.validate import validate_course
from grader.engine.release import student_version


def _validate(copy, **kwargs):
    kwargs.setdefault("execute_lessons", False)
    return validate_course(copy.root, **kwargs)


def _problems(report) -> str:
    return "\n".join(str(p) for p in report.problems)


def test_trimmed_copy_is_valid(course_copy):
    """The baseline every negative test breaks: without a fault there is no problem."""
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    report = _validate(copy)
    assert report.ok, report.summary()


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda m: m.pop("title"), "'title' is a required property"),
        (lambda m: m.update(network="internet"), "network: 'internet' is not one of"),
        (lambda m: m["assignments"][0].update(points="ten"), "assignments[0].points: 'ten'"),
        (lambda m: m["assignments"][0].update(due_offset_days=-3),
         "assignments[0].due_offset_days: -3 is less than the minimum"),
        (lambda m: m["lessons"][0].update(path="../../etc/passwd"), "lessons[0].path"),
        (lambda m: m.update(colour="blue"), "Additional properties are not allowed"),
        (lambda m: m.update(slug="another-course"), "differs from the folder name"),
    ],
    ids=["missing-title", "bad-network", "points-not-number", "negative-due",
         "path-escapes", "unknown-field", "slug-mismatch"],
)
def test_bad_manifest(course_copy, change, expected):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    manifest = copy.manifest()
    change(manifest)
    copy.write_manifest(manifest)
    with pytest.raises(ManifestError) as raised:
        load_course(copy.root)
    assert expected in str(raised.value)
    assert "course.yml" in str(raised.value)
    report = _validate(copy)
    assert not report.ok and expected in _problems(report)
    assert report.checked == [], "nothing else is checked against a broken manifest"


def test_manifest_that_is_not_yaml(course_copy):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    copy.manifest_path.write_text("title: [unclosed\n")
    report = _validate(copy)
    assert "not valid YAML" in _problems(report)


def test_duplicate_grade_id(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    copy.cell(nb, "fizzbuzz-tests").metadata.nbgrader["grade_id"] = "leap-year-tests"
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy, execute=False)
    problems = _problems(report)
    assert "duplicate grade id 'leap-year-tests'" in problems.lower() or (
        "Duplicate grade id: leap-year-tests" in problems
    )
    assert "ps03-conditionals-and-functions/ps03-conditionals-and-functions.ipynb" in problems


def test_solution_that_fails_a_hidden_test(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    cell = copy.cell(nb, "letter-grade")
    # An off-by-one at the boundary: the visible tests still pass, a hidden one does not.
    cell.source = cell.source.replace("score >= 90", "score > 90")
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy)
    assert len(report.problems) == 1, report.summary()
    problem = report.problems[0]
    assert "cell 'letter-grade-tests'" in problem.where and "(solution)" in problem.where
    assert "the solution fails this test" in problem.message
    assert "90 should be 'A'" in problem.message  # the test's own assert message
    assert problem.course == "python-foundations"


def test_test_that_passes_on_the_student_version(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    # A test that never calls the learner's function gives points for nothing.
    copy.cell(nb, "leap-year-tests").source = (
        'assert 2024 % 4 == 0, "2024 is divisible by 4"\n'
        "### BEGIN HIDDEN TESTS\n"
        'assert 2000 % 400 == 0, "2000 is divisible by 400"\n'
        "### END HIDDEN TESTS"
    )
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy)
    assert len(report.problems) == 1, report.summary()
    problem = report.problems[0]
    assert "cell 'leap-year-tests'" in problem.where and "student version" in problem.where
    assert "passes on the unanswered student version (3/3 points for no work)" in problem.message
    assert "call their function" in problem.fix


def test_hidden_test_leaks_through_a_misspelt_marker(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    cell = copy.cell(nb, "leap-year-tests")
    # nbgrader matches "BEGIN HIDDEN TESTS" exactly, so it would ship this to learners.
    cell.source = cell.source.replace("### BEGIN HIDDEN TESTS", "### BEGIN HIDDEN TEST ")
    cell.source = cell.source.replace("### END HIDDEN TESTS", "### END HIDDEN TEST ")
    copy.save("ps03-conditionals-and-functions", nb)
    student = student_version(nb)[0]
    assert "is_leap_year(1900)" in "".join(c.source for c in student.cells), "precondition"
    report = _validate(copy, execute=False)
    problems = _problems(report)
    assert "cell 'leap-year-tests': hidden test text reaches the student version" in problems
    assert "assert is_leap_year(1900) is False" in problems
    assert "'### BEGIN HIDDEN TESTS'" in problems  # tells the instructor the right spelling


def test_solution_in_a_cell_not_marked_as_solution(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    cell = copy.cell(nb, "fizzbuzz")
    del cell.metadata["nbgrader"]  # now nbgrader leaves the whole solution in place
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy, execute=False)
    problems = _problems(report)
    assert "cell #9: has BEGIN SOLUTION/HIDDEN TESTS markers but no nbgrader metadata" in problems
    # nbgrader itself refuses to build a student version from it.
    assert "nbgrader could not build the student version" in problems
    assert "solution regions are within solution cells" in problems


def test_hidden_tests_in_a_cell_that_is_not_a_test_cell(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    cell = copy.cell(nb, "fizzbuzz-tests")
    cell.metadata["nbgrader"].update(grade=False, points=0)
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy, execute=False)
    assert "nbgrader could not build the student version: Hidden test region detected" in (
        _problems(report)
    )


def test_missing_data_file(course_copy):
    copy = course_copy("python-foundations", ["ps06-files"])
    (copy.root / "source" / "ps06-files" / "readings.txt").unlink()
    report = _validate(copy)
    problems = _problems(report)
    assert "data file readings.txt listed in course.yml is missing from source/ps06-files/" in (
        problems
    )
    # Running the solution confirms it and says what to do.
    assert "FileNotFoundError" in problems
    assert "put it in source/<assignment>/ beside the notebook" in problems


def test_missing_lesson_data_file(course_copy):
    copy = course_copy("data-analysis-pandas", ["pa01-numpy-steps"], lessons=2)
    (copy.root / "lessons" / "data" / "weather.csv").unlink()
    report = _validate(copy, execute_lessons=True)
    problems = _problems(report)
    assert "lesson lessons/02-dataframes.ipynb: data file lessons/data/weather.csv" in problems
    assert "worked example raises FileNotFoundError" in problems


def test_points_in_manifest_must_match_notebook(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    manifest = copy.manifest()
    manifest["assignments"][0]["points"] = 12
    copy.write_manifest(manifest)
    report = _validate(copy, execute=False)
    assert "course.yml says 12 points but the notebooks' nbgrader points add up to 10" in (
        _problems(report)
    )


def test_missing_assignment_folder_and_lesson(course_copy):
    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    manifest = copy.manifest()
    manifest["assignments"].append(
        {"slug": "ps99-missing", "title": "Missing", "points": 1, "due_offset_days": 1}
    )
    manifest["lessons"].append(
        {"slug": "99-gone", "title": "Gone", "path": "lessons/99-gone.ipynb"}
    )
    copy.write_manifest(manifest)
    report = _validate(copy, execute=False)
    problems = _problems(report)
    assert "assignment ps99-missing: folder source/ps99-missing/ is missing" in problems
    assert "lesson lessons/99-gone.ipynb: file" in problems and "is missing" in problems


def test_hints_must_be_a_list_of_strings(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    copy.cell(nb, "fizzbuzz").metadata["learning_studio"] = {"hints": "just one string"}
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy, execute=False)
    assert "cell 'fizzbuzz': learning_studio.hints must be a non-empty list of strings" in (
        _problems(report)
    )


def test_swappable_runner_is_used(course_copy):
    """validate_course runs every notebook through the runner it is given (the sandbox seam)."""
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    seen = []

    def refusing_runner(nb, workdir):
        seen.append(workdir)
        raise RuntimeError("sandbox unavailable")

    report = _validate(copy, runner=refusing_runner)
    assert len(seen) == 2  # the solution and the student version
    assert "could not run the solution notebook: sandbox unavailable" in _problems(report)


def test_old_nbgrader_schema_is_sent_to_nbgrader_update(course_copy):
    copy = course_copy("python-foundations", ["ps03-conditionals-and-functions"])
    nb = copy.notebook("ps03-conditionals-and-functions")
    copy.cell(nb, "fizzbuzz-tests").metadata.nbgrader["schema_version"] = 1
    copy.save("ps03-conditionals-and-functions", nb)
    report = _validate(copy, execute=False)
    assert "nbgrader metadata uses an old schema" in _problems(report)
    assert "nbgrader update" in _problems(report)


def test_runner_is_a_config_setting(course_copy):
    """The grader's config file swaps the runner: c.CourseValidator.runner = ..."""
    from traitlets.config import Config

    from grader.courses.validate import CourseValidator
    from grader.engine.runner import run_on_host

    copy = course_copy("python-foundations", ["ps01-values-and-strings"])
    calls = []

    def counting_runner(nb, workdir):
        calls.append(workdir)
        return run_on_host(nb, workdir)

    config = Config({"CourseValidator": {"runner": counting_runner, "execute_lessons": False}})
    report = CourseValidator(config=config).validate(copy.root)
    assert report.ok, report.summary()
    assert len(calls) == 2
