"""What the grader accepts from a request: names, due dates and uploaded files.

Each refusal says what to do instead. Names follow the one slug rule every part of Learning
Studio shares (studio_contracts.slug).
"""

from __future__ import annotations

import datetime as dt
import re

from grader.service.config import GraderSettings
from grader.service.errors import InvalidRequest, InvalidUpload, TooManyFiles, UploadTooLarge
from studio_contracts.slug import InvalidSlug
from studio_contracts.slug import check_slug as _check_slug


def check_slug(value: object, what: str) -> str:
    """value if it is a valid course/assignment/lesson name, else InvalidRequest."""
    try:
        return _check_slug(value, what)
    except InvalidSlug as e:
        raise InvalidRequest(str(e)) from None


def parse_due(value: str | None) -> dt.datetime | None:
    """ISO 8601 due date; a time zone is converted to UTC, none means UTC."""
    if value in (None, ""):
        return None
    try:
        due = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"due date {value!r} is not ISO 8601: write it like 2030-01-31T23:59:00Z"
        ) from None
    if due.tzinfo is not None:
        due = due.astimezone(dt.UTC).replace(tzinfo=None)
    return due



def validate_upload(files: dict[str, bytes], settings: GraderSettings) -> dict[str, bytes]:
    """Check names, count and size of uploaded files; returns them with normalised names.

    Refuses (with what to do) absolute paths, '..', backslashes, hidden and odd names,
    duplicates, too many files and too many bytes: the files end up in a sandbox and in
    the instructor's export, and a name must mean the same thing everywhere.
    """
    if not files:
        raise InvalidUpload("no files were uploaded: attach at least one notebook (.ipynb)")
    if len(files) > settings.max_upload_files:
        raise TooManyFiles(
            f"{len(files)} files uploaded, at most {settings.max_upload_files} are accepted: "
            "submit only the assignment's notebooks and the files they need"
        )
    total = sum(len(b) for b in files.values())
    if total > settings.max_upload_bytes:
        raise UploadTooLarge(
            f"upload is {total} bytes, at most {settings.max_upload_bytes} are accepted: "
            "clear large outputs (Edit > Clear All Outputs) and leave out data files"
        )
    segment = re.compile(settings.file_name_pattern)
    clean: dict[str, bytes] = {}
    for raw, data in files.items():
        name = raw
        if "\x00" in name or "\\" in name:
            raise InvalidUpload(
                f"file name {raw!r} contains a backslash or NUL: use '/' between folders"
            )
        if name.startswith("/"):
            raise InvalidUpload(f"file name {raw!r} is absolute: give a path inside the assignment")
        if len(name) > settings.max_path_length:
            raise InvalidUpload(
                f"file name {raw[:40]!r}... is longer than {settings.max_path_length} characters"
            )
        parts = name.split("/")
        for part in parts:
            if part in ("", ".", ".."):
                raise InvalidUpload(
                    f"file name {raw!r} leaves the assignment folder or has an empty part: "
                    "submit files by their path inside the assignment, like data/input.csv"
                )
            if not segment.match(part):
                raise InvalidUpload(
                    f"file name {raw!r} has a part {part!r} the grader does not accept: use "
                    "letters, digits, spaces and _ . - ( ) +, not starting with '.' or '-'"
                )
        key = "/".join(parts)
        if key.lower() in {k.lower() for k in clean}:
            raise InvalidUpload(
                f"file {raw!r} is uploaded twice (names differing only in case count as the "
                "same): rename one of them"
            )
        clean[key] = data
    return clean
