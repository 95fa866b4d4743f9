"""The rules every part shares (contracts/studio_contracts), and the grader's side of them.

The site's, the extension's and courses/schema.json's sides run the same tables in their
own test folders."""

from __future__ import annotations

import json
import re
import time
from importlib import resources

import pytest

from grader.service.errors import InvalidRequest
from grader.service.uploads import check_slug as grader_check_slug
from studio_contracts import signing
from studio_contracts.events import (
    GRADE_EVENT_SCHEMA,
    GRADE_EVENTS,
    InvalidGradeEvent,
    validate_grade_event,
)
from studio_contracts.slug import PATTERN, InvalidSlug, check_slug, is_slug, suggest

CASES = json.loads(resources.files("studio_contracts").joinpath("slug_cases.json").read_text())


@pytest.mark.parametrize("name", CASES["good"])
def test_good_names(name):
    assert is_slug(name) and check_slug(name, "course") == name
    assert grader_check_slug(name, "course") == name


@pytest.mark.parametrize("name", CASES["bad"])
def test_bad_names_are_refused_with_the_rule_and_a_fix(name):
    assert not is_slug(name)
    with pytest.raises(InvalidSlug, match="letters, digits, '-' and '_'"):
        check_slug(name, "course")
    with pytest.raises(InvalidRequest, match=re.escape(f"course {name!r} is not a valid name")):
        grader_check_slug(name, "course")


def test_a_suggestion_is_itself_a_valid_name():
    for name in ("Intro 1", "week.3", "  Data Analysis!  ", "a" * 80 + "-"):
        assert is_slug(suggest(name)), suggest(name)
    assert "for example 'Intro-1'" in str(InvalidSlug("Intro 1"))
    assert is_slug(None) is False and is_slug(7) is False


def test_the_grade_event_schema_uses_the_slug_pattern():
    props = GRADE_EVENT_SCHEMA["properties"]
    assert props["course"]["pattern"] == PATTERN == props["assignment"]["pattern"]


# --- signing ---------------------------------------------------------------------------------
def test_a_signed_request_verifies_and_any_change_is_refused():
    body = b'{"a": 1}'
    headers = signing.signed_headers("s3cret", body, now=1000)
    signing.verify("s3cret", body, headers, now=1000)
    signing.verify("s3cret", body, headers, now=1000 + signing.MAX_AGE)
    for secret, data, hdrs, now, status in [
        ("other", body, headers, 1000, 403),                        # wrong secret
        ("s3cret", b'{"a": 2}', headers, 1000, 403),                # body changed
        ("s3cret", body, {**headers, signing.TIMESTAMP_HEADER: "1001"}, 1000, 403),
        ("s3cret", body, headers, 1000 + signing.MAX_AGE + 1, 403),  # replayed later
        ("s3cret", body, {}, 1000, 401),                            # not signed
        ("s3cret", body, {**headers, signing.TIMESTAMP_HEADER: "soon"}, 1000, 403),
    ]:
        with pytest.raises(signing.BadSignature) as raised:
            signing.verify(secret, data, hdrs, now=now)
        assert raised.value.status == status


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    headers = signing.signed_headers("k", b"body", now=time.time())
    stamp = headers[signing.TIMESTAMP_HEADER]
    mac = hmac.new(b"k", stamp.encode() + b".body", hashlib.sha256).hexdigest()
    assert headers[signing.SIGNATURE_HEADER] == f"sha256={mac}"


def test_signing_without_a_secret_says_which_setting():
    with pytest.raises(ValueError, match=signing.SECRET_ENV):
        signing.signed_headers("", b"x")


# --- grade events ----------------------------------------------------------------------------
EVENT = {
    "event": "submission.graded", "delivery_id": 7, "course": "python-foundations",
    "assignment": "ps01", "username": "alan", "submission_id": 3, "attempt": 1,
    "status": "graded", "score": 8.5, "max_score": 10.0, "late_penalty": 0.0,
    "needs_manual_grade": False, "submitted_at": "2026-11-25T14:00:00+00:00",
    "graded_at": "2026-11-25T14:00:09+00:00",
}


def test_a_grade_event_validates():
    assert validate_grade_event(dict(EVENT)) == EVENT
    assert set(GRADE_EVENTS) == {"submission.graded", "grade.updated"}
    queued = {**EVENT, "status": "queued", "score": None, "max_score": None,
              "graded_at": None}
    assert validate_grade_event(queued) == queued


@pytest.mark.parametrize("change, where", [
    ({"event": "submission.deleted"}, "event"),
    ({"course": "../etc"}, "course"),
    ({"submission_id": "3"}, "submission_id"),
    ({"score": None}, "score"),                   # graded needs a score
    ({"extra": 1}, "(body)"),                     # nothing undeclared
    ({"score": -1}, "score"),
])
def test_a_malformed_grade_event_is_refused_saying_where(change, where):
    with pytest.raises(InvalidGradeEvent, match=re.escape(f"grade event {where}")):
        validate_grade_event({**EVENT, **change})
    missing = dict(EVENT)
    del missing["username"]
    with pytest.raises(InvalidGradeEvent, match="username"):
        validate_grade_event(missing)
