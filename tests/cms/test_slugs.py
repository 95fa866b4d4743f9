"""Course, lesson and assignment ids: the site checks the shared rule
(contracts/studio_contracts/slug_cases.json is the table every side runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from studio_site.base.validators import validate_course_slug
from studio_site.catalogue.sync import CatalogueError, validate

CASES = json.loads((Path(__file__).resolve().parents[2]
                    / "contracts/studio_contracts/slug_cases.json").read_text())


def catalogue_with(name: str) -> dict:
    return {"courses": [{"id": "intro", "title": "T", "lessons": [{"id": "l1"}],
                         "assignments": [{"id": name}]}, {"id": name, "title": "T"}]}


@pytest.mark.parametrize("name", CASES["good"])
def test_good_names_are_accepted(name: str) -> None:
    validate_course_slug(name)
    assert [c["id"] for c in validate(catalogue_with(name))] == ["intro", name]


@pytest.mark.parametrize("name", CASES["bad"])
def test_bad_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_course_slug(name)
    assert "is not a valid name: use 1-64 characters" in refused.value.messages[0]
    with pytest.raises(CatalogueError) as error:
        validate(catalogue_with(name))
    # Where it is, what it is, and the rule.
    assert str(error.value).startswith("courses[0].assignments[0]: 'id' ")
    assert "letters, digits, '-' and '_'" in str(error.value)


def test_the_message_suggests_a_fix() -> None:
    with pytest.raises(CatalogueError, match="for example 'intro-1'"):
        validate({"courses": [{"id": "intro.1", "title": "T"}]})


def test_the_course_page_form_refuses_a_bad_id(course) -> None:
    course.course_id = "intro.python"
    with pytest.raises(ValidationError) as error:
        course.full_clean()
    assert "course_id" in error.value.message_dict
