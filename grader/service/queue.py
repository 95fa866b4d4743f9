"""The durable grading queue: GradingJob rows claimed under a lease.

Why leases: a grader process may die mid-job (killed, machine lost). Its job stays
``running`` until the lease expires, then any worker claims it again; ``attempts`` bounds
how often. Why claims are conditional: two workers (threads, processes, machines) racing
for one row must not both get it. On PostgreSQL the claim is ``SELECT ... FOR UPDATE SKIP
LOCKED``; on SQLite (one writer at a time) an ``UPDATE ... WHERE state='queued'`` that
only one writer can win. Finishing is conditional too: a worker whose lease was taken
over cannot store its (duplicate) grade, so nothing is graded twice.

Why the order is not first-come: one learner who submits slow notebooks again and again
must not hold every worker. A learner with a job running gets no second one at the same
time, and among the others the learner whose last grading started longest ago (or who was
never graded) comes first; a learner's own jobs go oldest first. So the queue serves
learners round-robin, and a flood of one learner's submissions waits behind everyone
else's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from grader.service.orm import GradingJob, Submission, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class LeaseLost(Exception):
    """This worker no longer owns the job (its lease expired and another worker took it)."""


@dataclass
class ClaimedJob:
    id: int
    submission_id: int
    attempt: int
    owner: str


class GradingQueue:
    def __init__(self, sessions: sessionmaker, lease_seconds: float = 120, max_attempts: int = 3):
        self.sessions = sessions
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts

    def enqueue(self, session: Session, submission_id: int, reason: str = "submit") -> GradingJob:
        """Add a job in the caller's transaction, so a submission never exists without one."""
        job = GradingJob(submission_id=submission_id, reason=reason, state=QUEUED)
        session.add(job)
        session.flush()
        return job

    def _lease_until(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.lease_seconds)

    def fail_exhausted(self) -> int:
        """Mark failed the expired jobs that have used up their attempts; returns how many."""
        now = utcnow()
        with self.sessions.begin() as s:
            result = s.execute(
                update(GradingJob)
                .where(
                    GradingJob.state == RUNNING,
                    GradingJob.lease_expires_at < now,
                    GradingJob.attempts >= self.max_attempts,
                )
                .values(
                    state=FAILED,
                    finished_at=now,
                    lease_owner=None,
                    error=(
                        f"gave up after {self.max_attempts} attempts: the grader running it "
                        "stopped or hung past its lease each time"
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            return result.rowcount or 0

    def _candidates(self, now: dt.datetime, limit: int):
        """Claimable jobs in fair order (see the module's docstring): (job id, learner)."""
        claimable = or_(
            GradingJob.state == QUEUED,
            (GradingJob.state == RUNNING) & (GradingJob.lease_expires_at < now),
        )
        running = aliased(GradingJob)
        running_sub = aliased(Submission)
        busy = (
            select(running_sub.username)
            .join(running, running.submission_id == running_sub.id)
            .where(running.state == RUNNING, running.lease_expires_at >= now)
        )
        started = aliased(GradingJob)
        started_sub = aliased(Submission)
        last_started = (
            select(func.max(started.started_at))
            .join(started_sub, started.submission_id == started_sub.id)
            .where(started_sub.username == Submission.username)
            .scalar_subquery()
        )
        return (
            select(GradingJob.id, Submission.username, GradingJob.state, GradingJob.lease_owner)
            .join(Submission, GradingJob.submission_id == Submission.id)
            .where(claimable, Submission.username.not_in(busy))
            # never-graded learners first, then the one waiting longest since their last
            .order_by(last_started.is_not(None), last_started, GradingJob.id)
            .limit(limit)
        )

    def claim(self, owner: str) -> ClaimedJob | None:
        """Take the next job in fair order for owner, or None when there is nothing to do."""
        self.fail_exhausted()
        now = utcnow()
        claimable = or_(
            GradingJob.state == QUEUED,
            (GradingJob.state == RUNNING) & (GradingJob.lease_expires_at < now),
        )
        with self.sessions.begin() as s:
            if s.bind.dialect.name == "postgresql":
                for job_id, username, _, _ in s.execute(self._candidates(now, 20)).all():
                    # one claimer per learner at a time, so two workers cannot both start
                    # one of the same learner's jobs; then the job row itself
                    if not s.scalar(select(func.pg_try_advisory_xact_lock(
                            func.hashtext(f"grader-learner:{username}")))):
                        continue
                    if s.scalar(select(func.count()).select_from(GradingJob).join(
                            Submission, GradingJob.submission_id == Submission.id).where(
                            Submission.username == username, GradingJob.state == RUNNING,
                            GradingJob.lease_expires_at >= now)):
                        continue  # another worker started one of theirs meanwhile
                    job = s.scalars(select(GradingJob).where(GradingJob.id == job_id, claimable)
                                    .with_for_update(skip_locked=True)).first()
                    if job is None:
                        continue
                    job.state, job.lease_owner = RUNNING, owner
                    job.lease_expires_at = self._lease_until()
                    job.attempts += 1
                    job.started_at = now
                    return ClaimedJob(job.id, job.submission_id, job.attempts, owner)
                return None
        # SQLite and others (one writer at a time): optimistic claim of the first candidate,
        # retried if another worker won the row.
        for _ in range(20):
            with self.sessions.begin() as s:
                candidate = s.execute(self._candidates(now, 1)).first()
                if candidate is None:
                    return None
                job_id, _, state, previous_owner = candidate
                won = s.execute(
                    update(GradingJob)
                    .where(
                        GradingJob.id == job_id,
                        GradingJob.state == state,
                        (
                            GradingJob.lease_owner.is_(None)
                            if previous_owner is None
                            else GradingJob.lease_owner == previous_owner
                        ),
                        claimable,
                    )
                    .values(
                        state=RUNNING,
                        lease_owner=owner,
                        lease_expires_at=self._lease_until(),
                        attempts=GradingJob.attempts + 1,
                        started_at=now,
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won == 1:
                    job = s.get(GradingJob, job_id)
                    s.refresh(job)
                    return ClaimedJob(job.id, job.submission_id, job.attempts, owner)
        return None

    def _owned(self, job: ClaimedJob):
        return (
            (GradingJob.id == job.id)
            & (GradingJob.state == RUNNING)
            & (GradingJob.lease_owner == job.owner)
            & (GradingJob.attempts == job.attempt)
        )

    def renew(self, job: ClaimedJob) -> None:
        """Extend the lease while grading; raises LeaseLost if another worker took over."""
        with self.sessions.begin() as s:
            n = s.execute(
                update(GradingJob)
                .where(self._owned(job))
                .values(lease_expires_at=self._lease_until())
                .execution_options(synchronize_session=False)
            ).rowcount
        if n != 1:
            raise LeaseLost(f"job {job.id} is no longer owned by {job.owner}")

    def finish(self, session: Session, job: ClaimedJob) -> None:
        """Mark done inside the transaction that stores the grade; LeaseLost rolls it back."""
        n = session.execute(
            update(GradingJob)
            .where(self._owned(job))
            .values(state=DONE, finished_at=utcnow(), lease_owner=None, error="")
            .execution_options(synchronize_session=False)
        ).rowcount
        if n != 1:
            raise LeaseLost(f"job {job.id} is no longer owned by {job.owner}")

    def fail(self, job: ClaimedJob, reason: str, retry: bool = True) -> str:
        """Record a failed attempt: queued again while attempts remain, else failed."""
        state = QUEUED if retry and job.attempt < self.max_attempts else FAILED
        with self.sessions.begin() as s:
            n = s.execute(
                update(GradingJob)
                .where(self._owned(job))
                .values(
                    state=state,
                    error=reason,
                    lease_owner=None,
                    lease_expires_at=None,
                    finished_at=utcnow() if state == FAILED else None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        if n != 1:
            raise LeaseLost(f"job {job.id} is no longer owned by {job.owner}")
        return state

    def release(self, job: ClaimedJob, note: str = "") -> None:
        """Give a job back untouched, its attempt refunded: this grader is shutting down, or
        cannot grade right now (no sandbox) through no fault of the submission."""
        with self.sessions.begin() as s:
            s.execute(
                update(GradingJob)
                .where(self._owned(job))
                .values(
                    state=QUEUED,
                    attempts=GradingJob.attempts - 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    error=note,
                )
                .execution_options(synchronize_session=False)
            )

    def counts(self, session: Session | None = None) -> dict[str, int]:
        """Jobs per state, for `python -m grader status` and the API."""
        own = session is None
        s = session or self.sessions()
        try:
            rows = s.execute(select(GradingJob.state, func.count()).group_by(GradingJob.state))
            counts = {QUEUED: 0, RUNNING: 0, DONE: 0, FAILED: 0}
            counts.update({state: n for state, n in rows})
            return counts
        finally:
            if own:
                s.close()
