"""The one rule for course, assignment and lesson names ("slugs").

A slug is a folder name on every learner's disk, a path segment in the grader's API and
the site's URLs, and a key in three databases, so every side checks the same rule:
1 to 64 characters, ASCII letters, digits, ``-`` and ``_``, starting and ending with a
letter or a digit. Upper case is allowed because nbgrader courses use names like
``Week1`` and must import without edits. ``courses/schema.json`` carries the same
pattern; ``slug_cases.json`` beside this file is the table of good and bad names that
each side's tests run.
"""

from __future__ import annotations

import re

MAX_LENGTH = 64
PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$"
SLUG = re.compile(PATTERN)
RULE = (
    "1-64 characters: letters, digits, '-' and '_', starting and ending with a letter "
    "or a digit"
)


class InvalidSlug(ValueError):
    """A name that breaks the slug rule; the message says the rule and a fix."""

    def __init__(self, value: object, what: str = "name") -> None:
        self.value = value
        self.what = what
        hint = suggest(value) if isinstance(value, str) else ""
        fix = f"; for example {hint!r}" if hint and hint != value else ""
        super().__init__(f"{what} {value!r} is not a valid name: use {RULE}{fix}")


def is_slug(value: object) -> bool:
    # fullmatch: `$` alone would accept a trailing newline
    return isinstance(value, str) and SLUG.fullmatch(value) is not None


def check_slug(value: object, what: str = "name") -> str:
    """Return value if it is a slug, else raise InvalidSlug naming `what`."""
    if not is_slug(value):
        raise InvalidSlug(value, what)
    return value  # type: ignore[return-value]


def suggest(value: str) -> str:
    """A slug close to value (spaces and dots to '-', other characters dropped)."""
    text = re.sub(r"[\s.]+", "-", value.strip())
    text = re.sub(r"[^A-Za-z0-9_-]", "", text)
    text = re.sub(r"-{2,}", "-", text).strip("-_")
    return text[:MAX_LENGTH].rstrip("-_")
