"""The grader's database: courses, releases, submissions, the grading queue, grades.

Everything a grader process needs to resume work lives here or in the blob store, so any
number of grader processes can share one database. The schema is created and changed
only by the Alembic migrations in grader/service/migrations (``grader db upgrade``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker


def utcnow() -> dt.datetime:
    """Naive UTC: SQLite keeps no time zones, so every timestamp is stored as UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Course(Base):
    """A course: its assignments, instructors and learners."""

    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    assignments: Mapped[list[Assignment]] = relationship(back_populates="course")
    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="course")


class Enrollment(Base):
    """A hub user's role in a course, kept by the grader (hub groups also count)."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_id", "username", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(16))  # learner | instructor
    course: Mapped[Course] = relationship(back_populates="enrollments")


class Assignment(Base):
    """An assignment of a course; what learners see of it is its newest Release."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    course: Mapped[Course] = relationship(back_populates="assignments")
    releases: Mapped[list[Release]] = relationship(
        back_populates="assignment", order_by="Release.version"
    )


class Release(Base):
    """One published version of an assignment.

    source_tree holds the instructor's files (never sent to a learner); student_tree the
    version learners fetch; build_blob the engine's ReleaseBuild (master copies of the
    locked and test cells with their checksums, restored into every submission before it
    is graded).
    """

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("assignment_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source_tree: Mapped[str] = mapped_column(String(64))
    student_tree: Mapped[str] = mapped_column(String(64))
    notebooks: Mapped[list] = mapped_column(JSON, default=list)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    points: Mapped[dict] = mapped_column(JSON, default=dict)  # {notebook: {grade_id: max}}
    build_blob: Mapped[str] = mapped_column(String(64))  # ReleaseBuild.to_json()
    check_report: Mapped[dict] = mapped_column(JSON, default=dict)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    late_policy: Mapped[str] = mapped_column(String(32), default="none")
    late_penalty_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    max_submissions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    assignment: Mapped[Assignment] = relationship(back_populates="releases")


class Submission(Base):
    """What a learner handed in: immutable, addressed by the hash of its files."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "username", "attempt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    username: Mapped[str] = mapped_column(String(255), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    tree: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    release: Mapped[Release] = relationship()
    assignment: Mapped[Assignment] = relationship()
    grades: Mapped[list[Grade]] = relationship(
        back_populates="submission", order_by="(Grade.notebook, Grade.cell_id)"
    )
    result: Mapped[SubmissionResult | None] = relationship(back_populates="submission")


class SubmissionResult(Base):
    """The outcome of the newest grading of a submission: totals, penalty, feedback."""

    __tablename__ = "submission_results"
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    auto_score: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)
    seconds_late: Mapped[float] = mapped_column(Float, default=0.0)
    needs_manual_grade: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str] = mapped_column(Text, default="")
    feedback: Mapped[dict] = mapped_column(JSON, default=dict)  # {notebook: blob sha}
    # the executed notebooks with the release's tests: instructors only (hidden tests)
    graded_notebooks: Mapped[dict] = mapped_column(JSON, default=dict)  # {notebook: blob sha}
    graded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Why the grading gave no automatic points and sent the submission to the instructor
    # (the kernel claimed a test passed that did not run to its end): instructors only.
    review_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    submission: Mapped[Submission] = relationship(back_populates="result")


class Grade(Base):
    """Score of one graded cell (nbgrader's grade_id) of one notebook of a submission."""

    __tablename__ = "grades"
    __table_args__ = (UniqueConstraint("submission_id", "notebook", "cell_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    notebook: Mapped[str] = mapped_column(String(255))
    cell_id: Mapped[str] = mapped_column(String(255))
    auto_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    manual_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    needs_manual_grade: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_by: Mapped[str] = mapped_column(String(255), default="")
    submission: Mapped[Submission] = relationship(back_populates="grades")

    @property
    def score(self) -> float | None:
        """nbgrader's rule: a manual score, when given, replaces the auto score."""
        return self.manual_score if self.manual_score is not None else self.auto_score


class GradingJob(Base):
    """One entry of the durable grading queue.

    queued -> running (owned by lease_owner until lease_expires_at) -> done | failed.
    A running job whose lease expired is claimed again; attempts is bounded.
    """

    __tablename__ = "grading_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32), default="submit")
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    submission: Mapped[Submission] = relationship()


class Lesson(Base):
    """A readable notebook of a course (course.yml's lessons), with the files it reads.

    files_tree is a blob tree ({path inside the course folder: bytes}) holding the lesson
    notebook at ``path`` and its data files, so a learner's server fetches it from here
    instead of from a copy baked into the learner image.
    """

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(String(255))
    files: Mapped[list] = mapped_column(JSON, default=list)
    files_tree: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Draft(Base):
    """A notebook drafted by AI for an instructor of the course (grader.service.drafts).

    An exercise draft is an nbgrader SOURCE notebook: it holds solutions and hidden tests,
    so only the course's instructors ever read it; it becomes part of an assignment only
    when an instructor releases it through the release check. A lesson draft is a lesson
    notebook. notebook is the notebook's JSON text (small: a few kB).
    """

    __tablename__ = "ai_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # exercise | lesson
    assignment: Mapped[str] = mapped_column(String(64))  # assignment or lesson slug
    name: Mapped[str] = mapped_column(String(255))  # the notebook's file name
    title: Mapped[str] = mapped_column(String(200), default="")
    request: Mapped[dict] = mapped_column(JSON, default=dict)  # topic/outline and options
    notebook: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(Base):
    """A grade event waiting to reach the CMS; retried with backoff until delivered."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TutorPolicy(Base):
    """How much the AI tutor may say in a course (assignment "": the course's default) or in
    one assignment: off | hints | explain | open (grader.service.tutor)."""

    __tablename__ = "tutor_policies"
    __table_args__ = (UniqueConstraint("course_id", "assignment"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment: Mapped[str] = mapped_column(String(64), default="")
    policy: Mapped[str] = mapped_column(String(16))
    updated_by: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TutorConversation(Base):
    """A learner's exchange with the tutor about one exercise cell: theirs and their
    instructors' to read, nobody else's."""

    __tablename__ = "tutor_conversations"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(255), index=True)
    notebook: Mapped[str] = mapped_column(String(255))
    cell: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    messages: Mapped[list[TutorMessage]] = relationship(
        back_populates="conversation", order_by="TutorMessage.id")


class TutorMessage(Base):
    """One turn: the learner's (question, with the code and errors sent) or the tutor's
    answer (withheld: the leak check held it back; content is then what the learner saw)."""

    __tablename__ = "tutor_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("tutor_conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    conversation: Mapped[TutorConversation] = relationship(back_populates="messages")


class TutorRequest(Base):
    """One request to the tutor, for limits, budgets and the instructors' usage report.

    Written when the request is accepted (outcome "started", so concurrent requests count
    against the limits at once) and completed when its answer ends."""

    __tablename__ = "tutor_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    assignment: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(255), index=True)
    notebook: Mapped[str] = mapped_column(String(255))
    cell: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(Text, default="")
    conversation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    # started | answered | regenerated | withheld | error | cancelled
    outcome: Mapped[str] = mapped_column(String(16), default="started")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


def normalise_url(url: str) -> str:
    """Accept the URLs operators write: postgres:// and postgresql:// mean psycopg 3,
    the driver Learning Studio installs (SQLAlchemy alone would look for psycopg2)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def make_engine(url: str) -> Engine:
    """An engine for the grader database with the settings several processes need."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the API read while a worker writes; foreign keys are off by default.
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # transactions are begun by the listener below, not by the driver
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(conn):
            # A deferred transaction that reads and then writes fails at once with "database
            # is locked" when another process wrote in between (WAL snapshot); taking the
            # write lock up front makes it wait its turn (busy_timeout) instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    """Alembic's config for the grader's migrations, without an alembic.ini file."""
    from alembic.config import Config  # only when migrating: keeps alembic out of start-up

    cfg = Config()
    cfg.set_main_option("script_location", "grader.service:migrations")
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at url to the newest schema (creates it when empty)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def database_revision(url: str) -> str | None:
    """The schema revision the database is at, None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
