"""What every part of the gradebook shares: settings, database sessions, blob store, queue
and the permission rules (grader.service.gradebook wires them together)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing only: the gradebook imports its parts
    from grader.service.gradebook import Gradebook


class GradebookPart:
    def __init__(self, book: Gradebook) -> None:
        self.book = book
        self.settings = book.settings
        self.sessions = book.sessions
        self.blobs = book.blobs
        self.queue = book.queue
        self.permissions = book.permissions
