"""The grade event the grader sends the site, declared once (grade_event.schema.json).

The grader builds its payload with :func:`grade_event` and checks it before queueing it;
the site's receiver checks each body with :func:`validate_grade_event`; the grader's
OpenAPI document embeds :data:`GRADE_EVENT_SCHEMA`.
"""

from __future__ import annotations

import json
from importlib import resources

GRADE_EVENT_SCHEMA: dict = json.loads(
    resources.files(__package__).joinpath("grade_event.schema.json").read_text()
)
GRADE_EVENTS: tuple[str, ...] = tuple(GRADE_EVENT_SCHEMA["properties"]["event"]["enum"])
FIELDS: tuple[str, ...] = tuple(GRADE_EVENT_SCHEMA["properties"])


class InvalidGradeEvent(ValueError):
    """A grade event body that does not match grade_event.schema.json."""


def validate_grade_event(payload: object) -> dict:
    """Return payload if it matches the schema; raise InvalidGradeEvent saying where not."""
    import jsonschema  # the grader and the site have it; the learner image never calls this

    validator = jsonschema.Draft202012Validator(
        GRADE_EVENT_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(body)"
        raise InvalidGradeEvent(f"grade event {where}: {first.message}")
    return payload  # type: ignore[return-value]
