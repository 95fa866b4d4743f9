"""How long an instructor waits for their course's storage report (GET .../storage).

A course on SQLite with SUBMISSIONS submissions (each its own notebook and a shared data
file), each graded (feedback HTML and a graded notebook), and a second course as large
beside it. It prints the time of Storage.course_usage for one course (what the instructor's
view asks for) and of Storage.usage (the operator's whole-store walk), cold (first call)
and warm (the files' metadata in the page cache).

    python tests/benchmarks/bench_course_storage.py [SUBMISSIONS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from grader.service.config import GraderSettings
from grader.service.gradebook import open_gradebook
from grader.service.orm import Assignment, Course, Release, Submission, SubmissionResult
from grader.service.permissions import OPERATOR


def fill(book, slug: str, n: int) -> None:
    blobs = book.blobs
    source = blobs.put_tree({"ps1.ipynb": f"source of {slug}".encode(), "data.csv": b"a\n1\n"})
    with book.sessions.begin() as s:
        course = Course(slug=slug, title=slug)
        s.add(course)
        s.flush()
        a = Assignment(course_id=course.id, slug="ps1")
        s.add(a)
        s.flush()
        r = Release(assignment_id=a.id, version=1, source_tree=source, student_tree=source,
                    build_blob=blobs.put(f"build of {slug}".encode()))
        s.add(r)
        s.flush()
        for i in range(n):
            nb = f'{{"cells": [], "learner": "{slug}-{i}", "pad": "{"x" * 2000}"}}'.encode()
            sub = Submission(assignment_id=a.id, release_id=r.id, username=f"u{i % 200}",
                             attempt=i // 200 + 1,
                             tree=blobs.put_tree({"ps1.ipynb": nb, "data.csv": b"a\n1\n"}))
            s.add(sub)
            s.flush()
            s.add(SubmissionResult(
                submission_id=sub.id,
                feedback={"ps1": blobs.put(b"<html>" + nb + b"</html>")},
                graded_notebooks={"ps1": blobs.put(nb + b" graded")}))


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        settings = GraderSettings(database_url=f"sqlite:///{Path(tmp) / 'g.sqlite'}",
                                  blob_dir=str(Path(tmp) / "blobs"))
        book = open_gradebook(settings, upgrade=True)
        t_fill, _ = timed(lambda: (fill(book, "big", n), fill(book, "beside", n)))
        stored = sum(1 for _ in book.blobs.stored())
        print(f"{n} graded submissions in each of 2 courses, {stored} blobs stored "
              f"(filled in {t_fill:.1f} s)")
        for run in ("first", "second"):
            t_course, report = timed(lambda: book.storage.course_usage(OPERATOR, "big"))
            t_all, usage = timed(book.storage.usage)
            assert report["total_bytes"] == usage["courses"]["big"]
            print(f"{run} call: course_usage {t_course * 1000:.0f} ms "
                  f"({report['files']} files, {report['total_bytes'] / 1e6:.1f} MB); "
                  f"usage (whole store) {t_all * 1000:.0f} ms")


if __name__ == "__main__":
    main()
