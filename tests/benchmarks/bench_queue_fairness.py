"""How one learner's flood of slow submissions affects everyone else's wait.

The grader's real queue (grader.service.queue, SQLite) with two worker threads; grading is
simulated by a sleep (a slow submission takes SLOW s, an ordinary one FAST s), so the
numbers measure the queue's order, not the sandboxes. Three runs, each bounded:

- quiet: 20 learners submit once each;
- flood, fair: one learner has submitted FLOOD slow notebooks just before the 20;
- flood, first-come: the same, with the queue ordered by job id only (the order the grader
  used before; stock nbgrader has no queue at all).

It prints the p50/p95 wait (queued to started) of the 20 learners in each run, the ratio
flood/quiet, and the most jobs the flooding learner had running at once.

    python tests/benchmarks/bench_queue_fairness.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import or_, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared helpers
from service_support import make_submissions  # noqa: E402

from grader.service.config import GraderSettings
from grader.service.gradebook import open_gradebook
from grader.service.orm import GradingJob, Submission
from grader.service.queue import GradingQueue

WORKERS, LEARNERS, FLOOD = 2, 20, 12
FAST, SLOW = 0.05, 0.5


def _first_come_candidates(queue: GradingQueue) -> GradingQueue:
    """The same queue with the order it had before: oldest job first, whoever's it is."""

    def candidates(now, limit):
        claimable = or_(GradingJob.state == "queued",
                        (GradingJob.state == "running") & (GradingJob.lease_expires_at < now))
        return (select(GradingJob.id, Submission.username, GradingJob.state,
                       GradingJob.lease_owner)
                .join(Submission, GradingJob.submission_id == Submission.id)
                .where(claimable).order_by(GradingJob.id).limit(limit))

    queue._candidates = candidates  # type: ignore[method-assign]
    return queue


def run(flood: bool, fair: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = GraderSettings(database_url=f"sqlite:///{Path(tmp) / 'q.sqlite'}",
                                  blob_dir=str(Path(tmp) / "blobs"), lease_seconds=60)
        book = open_gradebook(settings, upgrade=True)
        queue = book.queue if fair else _first_come_candidates(book.queue)
        users = (["flood"] * FLOOD if flood else []) + [f"l{i}" for i in range(LEARNERS)]
        make_submissions(book, len(users), users)
        t0 = time.monotonic()
        waits: dict[str, float] = {}
        running: dict[str, int] = {}
        peak = {"flood": 0}
        lock = threading.Lock()

        def worker(name: str) -> None:
            while time.monotonic() - t0 < 120:  # bounded, whatever happens
                job = queue.claim(name)
                if job is None:
                    return
                with book.sessions() as s:
                    user = s.get(Submission, job.submission_id).username
                with lock:
                    running[user] = running.get(user, 0) + 1
                    peak["flood"] = max(peak["flood"], running.get("flood", 0))
                    if user != "flood":
                        waits[user] = time.monotonic() - t0
                time.sleep(SLOW if user == "flood" else FAST)
                with lock:
                    running[user] -= 1
                with book.sessions.begin() as s:
                    queue.finish(s, job)

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        book.sessions.kw["bind"].dispose()
        values = sorted(waits.values())
        return {"p50": statistics.median(values),
                "p95": values[min(len(values) - 1, int(0.95 * len(values)))],
                "flood_peak_running": peak["flood"], "learners": len(values)}


def main() -> int:
    quiet = run(flood=False, fair=True)
    fair = run(flood=True, fair=True)
    fifo = run(flood=True, fair=False)
    print(f"{WORKERS} workers, {LEARNERS} learners ({FAST} s each), a flood of {FLOOD} "
          f"slow submissions ({SLOW} s each) from one learner")
    for name, r in (("quiet", quiet), ("flood, fair queue", fair),
                    ("flood, first-come", fifo)):
        print(f"  {name:20s} wait p50 {r['p50']:.2f} s  p95 {r['p95']:.2f} s  "
              f"(flooder's most running jobs at once: {r['flood_peak_running']})")
    print(f"  p95 flood/quiet: fair {fair['p95'] / quiet['p95']:.2f}x, "
          f"first-come {fifo['p95'] / quiet['p95']:.2f}x (goal: within 2.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
