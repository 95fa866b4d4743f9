"""The gradebook: the grader's state and what people may do with it, by concern.

The REST handlers (grader.service.apihandlers), the grading worker and the command line all
go through one Gradebook, so the rules cannot differ between them:

- ``permissions`` (grader.service.permissions): who may do what, in one module;
- ``courses``: courses and enrolments;
- ``releases``: publishing a release, and what each person may fetch of it;
- ``submissions``: handing in, reading back, regrading;
- ``results``: grades stored by the worker, manual grades, feedback, grade events;
- ``reports``: CSV export, statistics, the queue's state;
- ``lessons``: lesson notebooks of a course;
- ``storage``: blob usage per course, and removing blobs nothing refers to;
- ``drafts``: notebooks drafted by AI for a course's instructors;
- ``tutor``: the AI tutor's policies, limits, conversations and usage.
"""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from grader.service.blobstore import BlobStore, DirectoryBlobStore
from grader.service.config import GraderSettings
from grader.service.courses import Courses
from grader.service.drafts import Drafts
from grader.service.lessons import Lessons
from grader.service.orm import database_revision, make_engine, make_sessionmaker, upgrade_database
from grader.service.permissions import Permissions
from grader.service.queue import GradingQueue
from grader.service.releases import Releases
from grader.service.reports import Reports
from grader.service.results import Results
from grader.service.storage import Storage
from grader.service.submissions import Submissions
from grader.service.tutor import Tutor


class Gradebook:
    def __init__(
        self,
        settings: GraderSettings,
        sessions: sessionmaker,
        blobs: BlobStore,
        queue: GradingQueue | None = None,
    ):
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.queue = queue or GradingQueue(
            sessions, settings.lease_seconds, settings.max_attempts
        )
        self.permissions = Permissions(settings, sessions)
        self.courses = Courses(self)
        self.releases = Releases(self)
        self.submissions = Submissions(self)
        self.results = Results(self)
        self.reports = Reports(self)
        self.lessons = Lessons(self)
        self.storage = Storage(self)
        self.drafts = Drafts(self)
        self.tutor = Tutor(self)


def open_gradebook(settings: GraderSettings, upgrade: bool = False) -> Gradebook:
    """The gradebook on the configured database and blob store (schema upgraded if asked)."""
    if upgrade:
        upgrade_database(settings.database_url)
    elif database_revision(settings.database_url) is None:
        raise DatabaseNotReady(
            f"the grader database at {settings.database_url} has no schema: run "
            "`python -m grader db upgrade` first"
        )
    engine = make_engine(settings.database_url)
    return Gradebook(settings, make_sessionmaker(engine), DirectoryBlobStore(settings.blob_dir))


class DatabaseNotReady(Exception):
    """The database is empty or behind the code's schema."""
