"""The server extension checks course, assignment and lesson names by the project's one
slug rule (contracts/studio_contracts/slug.py): every name of the shared table
slug_cases.json through the extension's own validator. test_routes.py sends the same
table through a route."""

from __future__ import annotations

import pytest
from extension_support import SLUG_CASES
from learning_studio_lab.errors import InvalidRequest
from learning_studio_lab.workspace import check_slug

from studio_contracts.slug import RULE


@pytest.mark.parametrize("name", SLUG_CASES["good"])
def test_the_tables_good_names_are_accepted(name):
    assert check_slug(name, "course") == name


@pytest.mark.parametrize("name", SLUG_CASES["bad"])
def test_the_tables_bad_names_are_refused_saying_the_rule(name):
    with pytest.raises(InvalidRequest) as info:
        check_slug(name, "assignment")
    err = info.value
    assert err.status == 400 and err.code == "InvalidRequest"
    # names the field and the value, says the rule (the panel shows this message as is)
    assert err.message.startswith(f"assignment {name!r} is not a valid name: use ")
    assert RULE in err.message
