"""Form and model validation of the names the grader and the site share."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from studio_contracts.slug import InvalidSlug, check_slug


def validate_course_slug(value: str) -> None:
    """A course, assignment or lesson id: studio_contracts.slug's rule, its message."""
    try:
        check_slug(value, "id")
    except InvalidSlug as error:
        raise ValidationError(str(error), code="invalid_slug") from None
