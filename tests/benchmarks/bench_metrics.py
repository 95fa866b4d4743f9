"""Benchmark of a Prometheus scrape of the grader: GraderMetrics.exposition() (the database
gauges read at each scrape: jobs by state, the oldest queued job, the webhook backlog) on a
SQLite gradebook holding many jobs and grade events.

    python tests/benchmarks/bench_metrics.py [--jobs 20000] [--scrapes 50]

Prints the scrape time (p50, max) and the body size. No Docker needed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from service_support import make_submissions  # noqa: E402

from grader.service.config import GraderSettings  # noqa: E402
from grader.service.gradebook import open_gradebook  # noqa: E402
from grader.service.metrics import GraderMetrics  # noqa: E402
from grader.service.orm import GradingJob, WebhookDelivery  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--scrapes", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = GraderSettings(database_url=f"sqlite:///{tmp}/g.sqlite",
                                  blob_dir=f"{tmp}/blobs")
        book = open_gradebook(settings, upgrade=True)
        make_submissions(book, args.jobs)
        with book.sessions.begin() as s:
            # most done, some failed; a grade event per job, most delivered
            s.query(GradingJob).filter(GradingJob.id % 10 != 0).update({"state": "done"})
            s.query(GradingJob).filter(GradingJob.id % 97 == 0).update({"state": "failed"})
            s.add_all(WebhookDelivery(event="submission.graded", payload={},
                                      state="delivered" if i % 20 else "pending")
                      for i in range(args.jobs))
        metrics = GraderMetrics(book.sessions, lambda: {"blobs": tmp})
        metrics.exposition()  # warm
        times = []
        for _ in range(args.scrapes):
            t = time.perf_counter()
            body = metrics.exposition()
            times.append(time.perf_counter() - t)
        print(f"grader scrape, {args.jobs} jobs and {args.jobs} grade events (SQLite): "
              f"p50 {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms, "
              f"{len(body)} bytes")
        book.sessions.kw["bind"].dispose()


if __name__ == "__main__":
    main()
