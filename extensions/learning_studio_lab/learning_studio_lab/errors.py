"""Errors a learner can hit in the Courses panel, each with what to do about it.

Every one carries an HTTP status and a ``code`` (its class name) that the panel shows
beside the message, the same shape the grader service uses: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations


class StudioError(Exception):
    """Base of the named errors the server extension answers with."""

    status = 400

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def code(self) -> str:
        return type(self).__name__


class GraderUnavailable(StudioError):
    """The grader service did not answer (down, restarting, or not configured)."""

    status = 503


class GraderNotConfigured(StudioError):
    """Neither STUDIO_GRADER_URL nor the hub's environment says where the grader is."""

    status = 503


class GraderRefused(StudioError):
    """The grader answered with an error; its own code and message are passed on, and
    when to try again (its Retry-After, as ``retry_after`` seconds) when it says so."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message, **({"retry_after": retry_after} if retry_after else {}))
        self.status = status
        self.grader_code = code

    @property
    def code(self) -> str:
        return self.grader_code


class WorkWouldBeOverwritten(StudioError):
    """Fetching again would replace files the learner already has."""

    status = 409


class NotAnAssignmentNotebook(StudioError):
    """Restore asked for a notebook the release does not contain."""

    status = 404


class SubmissionRefused(StudioError):
    """The assignment folder cannot be submitted as it is (size, names, no notebooks)."""

    status = 422


class NotFetched(StudioError):
    """The assignment has not been fetched, so there is nothing to submit."""

    status = 404


class InvalidRequest(StudioError):
    """The panel sent a request the server extension cannot use."""

    status = 400


class LessonNotFound(StudioError):
    """The course has no lesson of that name (neither in the grader nor in the image)."""

    status = 404
