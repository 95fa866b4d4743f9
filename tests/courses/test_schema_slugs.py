"""courses/schema.json names courses, lessons and assignments by the project's one slug rule
(studio_contracts.slug), and the shipped courses match the schema."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest
import yaml
from courses_testlib import COURSES, course_dirs

from studio_contracts import slug

SCHEMA = json.loads((COURSES / "schema.json").read_text())
CASES = json.loads((files("studio_contracts") / "slug_cases.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_uses_the_contract_pattern():
    assert SCHEMA["$defs"]["slug"]["pattern"] == slug.PATTERN


def _manifest(course: str = "demo", lesson: str = "intro", assignment: str = "ps1") -> dict:
    return {
        "slug": course, "title": "Demo course", "summary": "A course to test slugs with.",
        "audience": "Tests", "network": "closed",
        "lessons": [{"slug": lesson, "title": "Intro", "path": "lessons/intro.ipynb"}],
        "assignments": [{"slug": assignment, "title": "First", "points": 1,
                         "due_offset_days": 7}],
    }


WHERE = {
    "course": ("slug",),
    "lesson": ("lessons", 0, "slug"),
    "assignment": ("assignments", 0, "slug"),
}


def _errors_at(manifest: dict) -> set[tuple]:
    return {tuple(e.absolute_path) for e in VALIDATOR.iter_errors(manifest)}


def test_baseline_manifest_is_valid():
    assert _errors_at(_manifest()) == set()


@pytest.mark.parametrize("kind", WHERE)
@pytest.mark.parametrize("name", CASES["good"])
def test_good_slug_is_accepted(kind, name):
    assert _errors_at(_manifest(**{kind: name})) == set()


@pytest.mark.parametrize("kind", WHERE)
@pytest.mark.parametrize("name", CASES["bad"], ids=repr)
def test_bad_slug_is_refused(kind, name):
    assert _errors_at(_manifest(**{kind: name})) == {WHERE[kind]}


@pytest.mark.parametrize("folder", course_dirs(), ids=lambda p: p.name)
def test_shipped_course_matches_the_schema(folder):
    manifest = yaml.safe_load((folder / "course.yml").read_text())
    assert [e.message for e in VALIDATOR.iter_errors(manifest)] == []
