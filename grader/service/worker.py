"""Grading workers: take a job from the queue, grade it in the sandbox, store the grade.

One GradingWorker grades one submission at a time; a process runs several (the
worker_count setting) on its event loop, and any number of processes may share the
database. The engine (grader.engine.autograde) does the sandboxed execution and scoring; this
module only moves files out of the blob store, keeps the job's lease alive and stores
the result in the same transaction that marks the job done.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from grader.engine.autograde import autograde_async
from grader.engine.sandbox import SandboxError
from grader.service.gradebook import Gradebook
from grader.service.metrics import ENGINE_ERROR, LEASE_LOST, SANDBOX_UNAVAILABLE, NoMetrics
from grader.service.orm import GradingJob, Submission, utcnow
from grader.service.queue import ClaimedJob, LeaseLost

log = logging.getLogger("grader.service.worker")


def worker_id(label: str = "") -> str:
    """Unique per worker: host, process and a random part (pids repeat across restarts)."""
    suffix = f"-{label}" if label else ""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}{suffix}"


class GradingWorker:
    def __init__(self, gradebook: Gradebook, pool=None, name: str = "", metrics=None):
        self.gradebook = gradebook
        self.metrics = metrics or NoMetrics()
        self.queue = gradebook.queue
        self.pool = pool
        self.name = name or worker_id()
        self._builds: dict[int, object] = {}
        self.backoff = 0.0  # seconds to wait after a sandbox outage, doubling to 60

    def _build_for(self, release) -> object:
        # ReleaseBuild is immutable per release: parse its JSON once per process.
        build = self._builds.get(release.id)
        if build is None:
            build = self.gradebook.releases.load_build(release)
            self._builds[release.id] = build
        return build

    async def _keep_lease(self, job: ClaimedJob, grading: asyncio.Task) -> None:
        interval = max(self.queue.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.queue.renew, job)
            except LeaseLost:
                log.warning("lost the lease of job %s; abandoning it", job.id)
                grading.cancel()
                return

    def _load(self, job: ClaimedJob) -> tuple[dict, object, str]:
        """Who and what this job grades: log context, the release build, the files' tree."""
        with self.gradebook.sessions() as s:
            sub = s.get(Submission, job.submission_id)
            context = {
                "user": sub.username,
                "course": sub.assignment.course.slug,
                "assignment": sub.assignment.slug,
                "submission": sub.id,
            }
            release, tree = sub.release, sub.tree
            queued_at = s.scalar(select(GradingJob.queued_at).where(GradingJob.id == job.id))
        if queued_at is not None and job.attempt == 1:
            context["waited"] = (utcnow() - queued_at).total_seconds()
        return context, self._build_for(release), tree

    async def grade(self, job: ClaimedJob) -> str:
        """Grade one claimed job; returns the job's new state."""
        started = time.monotonic()
        context, build, tree = await asyncio.to_thread(self._load, job)
        waited = context.pop("waited", None)
        extra = {k: context[k] for k in ("user", "course", "assignment")}
        log.info("grading submission %s (job %s, attempt %s)", job.submission_id, job.id,
                 job.attempt, extra=extra)
        with tempfile.TemporaryDirectory(prefix="grader-sub-") as tmp:
            await asyncio.to_thread(self.gradebook.blobs.materialize, tree, tmp)
            grading = asyncio.ensure_future(
                # the app's config carries nbgrader's execution settings (c.Execute.*)
                autograde_async(build, Path(tmp), self.pool, context=context,
                                config=getattr(self.pool, "config", None))
            )
            keeper = asyncio.ensure_future(self._keep_lease(job, grading))
            try:
                result = await grading
            except asyncio.CancelledError:
                if keeper.done():  # cancelled because the lease was lost
                    self.metrics.failure(LEASE_LOST)
                    return "lost"
                # this grader is stopping: hand the job back now instead of after its lease
                self.queue.release(job)
                log.info("job %s handed back to the queue (shutting down)", job.id, extra=extra)
                raise
            except SandboxError as e:
                # Docker down or the image missing is the operator's problem, not the
                # learner's: the job waits (attempt refunded) and this worker backs off.
                reason = f"waiting for a sandbox (operator problem): {e}"
                log.error("job %s: %s", job.id, reason, extra=extra)
                await asyncio.to_thread(self.queue.release, job, reason)
                self.metrics.failure(SANDBOX_UNAVAILABLE)
                self.backoff = min(max(self.backoff * 2, 2.0), 60.0)
                return "deferred"
            except Exception as e:  # an engine bug must not leave the job stuck
                reason = f"grading failed: {type(e).__name__}: {e}"
                log.exception("job %s: %s", job.id, reason, extra=extra)
                self.metrics.failure(ENGINE_ERROR)
                return await asyncio.to_thread(self.queue.fail, job, reason, True)
            finally:
                keeper.cancel()
        feedback = {name: nb.feedback_html for name, nb in result.notebooks.items()}
        try:
            await asyncio.to_thread(self._store, job, result, feedback)
        except LeaseLost:
            log.warning("job %s was taken over while grading; result discarded", job.id,
                        extra=extra)
            self.metrics.failure(LEASE_LOST)
            return "lost"
        self.metrics.graded_job(time.monotonic() - started, bool(result.review_reasons), waited)
        log.info("graded submission %s: %s/%s", job.submission_id, result.to_json()["score"],
                 result.to_json()["max_score"], extra=extra)
        self.backoff = 0.0
        return "done"

    def _store(self, job: ClaimedJob, result, feedback: dict[str, str]) -> None:
        with self.gradebook.sessions.begin() as s:
            self.queue.finish(s, job)  # raises LeaseLost -> the whole transaction rolls back
            sub = s.get(Submission, job.submission_id)
            self.gradebook.results.store(s, sub, result, feedback)

    async def run_once(self) -> str | None:
        """Grade the next job if there is one; returns its new state or None when idle."""
        job = await asyncio.to_thread(self.queue.claim, self.name)
        if job is None:
            return None
        return await self.grade(job)

    async def run(self, stop: asyncio.Event, poll: float = 0.5,
                  until_empty: bool = False, on_job: Callable[[str], None] | None = None) -> None:
        while not stop.is_set():
            try:
                state = await self.run_once()
            except Exception:
                log.exception("worker %s: unexpected error, continuing", self.name)
                state = "error"
            if state is None or state == "deferred":
                if until_empty:
                    return
                try:
                    await asyncio.wait_for(stop.wait(), self.backoff if state else poll)
                except TimeoutError:
                    pass
            elif on_job is not None:
                on_job(state)


def result_summary(result) -> str:
    return json.dumps(result.to_json(), sort_keys=True)
