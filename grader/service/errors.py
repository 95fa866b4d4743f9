"""Errors a learner, instructor or operator can hit, each with what to do about it.

The API turns them into ``{"error": {"code": <class name>, "message": ...}}`` with the
HTTP status below; the CLI prints the message. The engine's SandboxUnavailable (Docker or
the learner image is missing: the operator's problem) is answered the same way, with 503.
"""

from __future__ import annotations


class GraderError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


class NotFound(GraderError):
    status = 404


class Forbidden(GraderError):
    status = 403


class Conflict(GraderError):
    status = 409


class InvalidUpload(GraderError):
    """A file name or layout the grader refuses (traversal, hidden files, duplicates)."""


class UploadTooLarge(GraderError):
    status = 413


class TooManyFiles(GraderError):
    status = 413


class SubmissionLimitReached(Conflict):
    pass


class ReleaseRejected(GraderError):
    """The release check found tests that do not discriminate, or the build failed."""

    status = 422

    def __init__(self, message: str, report: dict | None = None):
        super().__init__(message)
        self.report = report or {}


class InvalidRequest(GraderError):
    pass


class TooManyRequests(GraderError):
    """A learner submitting faster than GraderSettings.submission_rate allows."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class TutorUnavailable(GraderError):
    """The AI tutor cannot answer now: no endpoint configured, or it failed."""

    status = 503

