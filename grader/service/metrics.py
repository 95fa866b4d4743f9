"""Prometheus metrics of the grader: what an operator watches and alerts on.

Two kinds. Counted in this process as things happen (since it started; Prometheus copes
with restarts): how long gradings take, how they ended, and the failures by kind. Read from
the database at each scrape, so they are the same whichever grader process answers and
hold for all processes sharing the queue: jobs by state, the age of the oldest queued job,
the webhook backlog. And this process's warm sandboxes and the free disk space where the
grader writes.

Served at ``<prefix>/metrics`` (and, with ``GraderApp.metrics_port``, at ``/metrics`` on a
loopback port for a Prometheus on the same host) to the metrics token or an operator
(grader.service.apihandlers.metrics). docs/grader-operator.md lists the metrics and the
alerts worth setting on them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select

from grader.service.orm import GradingJob, WebhookDelivery, utcnow
from grader.service.queue import DONE, FAILED, QUEUED, RUNNING

# Failure kinds counted by grader_grading_failures_total.
ENGINE_ERROR = "engine_error"  # the engine raised: the attempt counts, the job is retried
SANDBOX_UNAVAILABLE = "sandbox_unavailable"  # no sandbox (Docker, image): job waits
LEASE_LOST = "lease_lost"  # another worker took the job over: this result is discarded
FAILURE_KINDS = (ENGINE_ERROR, SANDBOX_UNAVAILABLE, LEASE_LOST)
TUTOR_OUTCOMES = ("answered", "regenerated", "withheld", "error", "cancelled")

# Grading times: a warm sandbox grades a small notebook in well under a second; the
# sandbox's wall clock (SandboxPool.wall_timeout) stops a submission at 300 s by default.
GRADING_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
WAIT_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)


class _DatabaseCollector:
    """Gauges read from the grader's database at scrape time."""

    def __init__(self, sessions):
        self.sessions = sessions

    def collect(self):
        jobs = GaugeMetricFamily("grader_jobs", "Grading jobs by state, from the database "
                                 "(queued, running, done, failed).", labels=["state"])
        oldest = GaugeMetricFamily(
            "grader_queue_oldest_seconds",
            "Age of the oldest queued grading job in seconds (0 when none waits): the wait "
            "a learner sees before grading starts.")
        hooks = GaugeMetricFamily(
            "grader_webhook_deliveries", "Grade events to the site by state: pending is the "
            "backlog, dropped gave up after webhook_max_attempts.", labels=["state"])
        hook_oldest = GaugeMetricFamily(
            "grader_webhook_oldest_pending_seconds",
            "Age of the oldest grade event not yet delivered to the site (0 when none).")
        now = utcnow()
        with self.sessions() as s:
            counts = {QUEUED: 0, RUNNING: 0, DONE: 0, FAILED: 0}
            counts.update(dict(s.execute(
                select(GradingJob.state, func.count()).group_by(GradingJob.state)).all()))
            first = s.scalar(select(func.min(GradingJob.queued_at))
                             .where(GradingJob.state == QUEUED))
            states = {"pending": 0, "delivered": 0, "dropped": 0}
            states.update(dict(s.execute(
                select(WebhookDelivery.state, func.count())
                .group_by(WebhookDelivery.state)).all()))
            first_hook = s.scalar(select(func.min(WebhookDelivery.created_at))
                                  .where(WebhookDelivery.state == "pending"))
        for state, n in sorted(counts.items()):
            jobs.add_metric([state], n)
        oldest.add_metric([], max((now - first).total_seconds(), 0.0) if first else 0.0)
        for state, n in sorted(states.items()):
            hooks.add_metric([state], n)
        hook_oldest.add_metric(
            [], max((now - first_hook).total_seconds(), 0.0) if first_hook else 0.0)
        return [jobs, oldest, hooks, hook_oldest]


class _DiskCollector:
    """Free space where the grader writes: the blob store and the sandboxes' work folder."""

    def __init__(self, paths: Callable[[], dict[str, str]]):
        self.paths = paths

    def collect(self):
        free = GaugeMetricFamily("grader_disk_free_bytes", "Free bytes on the file system of "
                                 "the blob store (blobs) and the sandboxes' work folder (work).",
                                 labels=["volume"])
        size = GaugeMetricFamily("grader_disk_size_bytes", "Size in bytes of the same file "
                                 "systems.", labels=["volume"])
        for volume, path in sorted(self.paths().items()):
            if not path:
                continue
            try:
                usage = shutil.disk_usage(path)
            except OSError:
                continue  # not there (yet): no sample rather than a wrong one
            free.add_metric([volume], usage.free)
            size.add_metric([volume], usage.total)
        return [free, size]


class GraderMetrics:
    """The grader's metrics, in a registry of its own (one per service)."""

    def __init__(self, sessions=None, disk_paths: Callable[[], dict[str, str]] | None = None):
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.grading_seconds = Histogram(
            "grader_grading_seconds",
            "Seconds from a worker claiming a job to its grade stored (sandbox, kernels, "
            "notebooks, feedback), for the jobs this process graded.",
            buckets=GRADING_BUCKETS, registry=r)
        self.queue_wait_seconds = Histogram(
            "grader_queue_wait_seconds",
            "Seconds a job waited in the queue before a worker of this process took it.",
            buckets=WAIT_BUCKETS, registry=r)
        self.graded = Counter(
            "grader_graded", "Submissions graded by this process, by outcome: scored, or "
            "review (tampering detected: sent to a person, no score).",
            ["outcome"], registry=r)
        self.failures = Counter(
            "grader_grading_failures", "Grading attempts of this process that did not "
            "store a grade, by kind: engine_error (retried until max_attempts), "
            "sandbox_unavailable (job waits, an operator problem), lease_lost.",
            ["kind"], registry=r)
        self.warm_sandboxes = Gauge(
            "grader_sandboxes_warm", "Warm sandboxes started and ready in this process "
            "(SandboxPool.warm is the target).", registry=r)
        self.warm_target = Gauge(
            "grader_sandboxes_warm_target", "SandboxPool.warm of this process.", registry=r)
        self.workers = Gauge("grader_workers", "Grading workers in this process.", registry=r)
        self.tutor_requests = Counter(
            "grader_tutor_requests", "AI tutor requests answered by this process, by "
            "outcome: answered, regenerated (the first answer came too close to the "
            "solution), withheld, error (the AI endpoint failed), cancelled.",
            ["outcome"], registry=r)
        self.tutor_leaks = Counter(
            "grader_tutor_leaks", "Tutor answers the leak check stopped, by what it found: "
            "line (a solution line) or similarity (the solution's code tokens).",
            ["kind"], registry=r)
        self.tutor_tokens = Counter(
            "grader_tutor_tokens", "Tokens the tutor used in this process (prompt, completion).",
            ["kind"], registry=r)
        for outcome in TUTOR_OUTCOMES:
            self.tutor_requests.labels(outcome)
        for kind in ("line", "similarity"):
            self.tutor_leaks.labels(kind)
        for kind in ("prompt", "completion"):
            self.tutor_tokens.labels(kind)
        for outcome in ("scored", "review"):
            self.graded.labels(outcome)
        for kind in FAILURE_KINDS:
            self.failures.labels(kind)  # every kind from the start: rate() sees the first one
        if sessions is not None:
            r.register(_DatabaseCollector(sessions))
        if disk_paths:
            r.register(_DiskCollector(disk_paths))

    def graded_job(self, seconds: float, review: bool, waited: float | None = None) -> None:
        self.grading_seconds.observe(seconds)
        self.graded.labels("review" if review else "scored").inc()
        if waited is not None:
            self.queue_wait_seconds.observe(max(waited, 0.0))

    def failure(self, kind: str) -> None:
        self.failures.labels(kind).inc()

    def tutor_event(self, what: str) -> None:
        """An outcome of a tutor request, or leak_<kind> for a stopped answer."""
        if what.startswith("leak_"):
            self.tutor_leaks.labels(what.removeprefix("leak_")).inc()
        else:
            self.tutor_requests.labels(what).inc()

    def set_pool(self, pool, workers: int) -> None:
        """Read the sandbox pool on the event loop (it is not thread-safe), before a scrape."""
        self.workers.set(workers)
        if pool is None:
            self.warm_sandboxes.set(0)
            self.warm_target.set(0)
            return
        self.warm_target.set(pool.warm)
        self.warm_sandboxes.set(pool.warm_ready())

    def exposition(self) -> bytes:
        """The text format (blocking: it reads the database; call it off the event loop)."""
        return generate_latest(self.registry)


class NoMetrics:
    """For workers run outside the service (``grader grade``): counts nothing."""

    def graded_job(self, seconds: float, review: bool, waited: float | None = None) -> None:
        pass

    def failure(self, kind: str) -> None:
        pass
