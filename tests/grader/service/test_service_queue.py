"""The durable grading queue on SQLite and (with LS_TEST_POSTGRES_URL) PostgreSQL:
exclusive claims, lease expiry, a grader killed mid-batch, the retry bound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from service_support import PYTHONPATH, make_submissions
from sqlalchemy import select

from grader.service.orm import GradingJob, Submission
from grader.service.queue import LeaseLost

pytestmark = pytest.mark.timeout(120)


def job_rows(book) -> list[GradingJob]:
    with book.sessions() as s:
        return list(s.scalars(select(GradingJob).order_by(GradingJob.id)))


def test_concurrent_workers_claim_each_job_exactly_once(gradebook):
    # a lease long enough for a loaded CI machine: an expired lease is *meant* to be retaken
    gradebook.queue.lease_seconds = 60
    make_submissions(gradebook, 30)
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work(owner: str) -> None:
        while True:
            job = gradebook.queue.claim(owner)
            if job is None:
                return
            with lock:
                claimed.append((owner, job.id))
            with gradebook.sessions.begin() as s:
                gradebook.queue.finish(s, job)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [job_id for _, job_id in claimed]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 30
    assert {j.state for j in job_rows(gradebook)} == {"done"}
    assert {j.attempts for j in job_rows(gradebook)} == {1}


def test_expired_lease_passes_the_job_on_and_the_old_owner_cannot_finish(gradebook):
    make_submissions(gradebook, 1)
    q = gradebook.queue  # lease 2 s
    first = q.claim("grader-a")
    assert first is not None and q.claim("grader-b") is None  # leased: not claimable
    q.renew(first)
    time.sleep(2.3)
    second = q.claim("grader-b")
    assert second is not None and second.id == first.id and second.attempt == 2
    with pytest.raises(LeaseLost):
        q.renew(first)
    with pytest.raises(LeaseLost), gradebook.sessions.begin() as s:
        q.finish(s, first)
    (row,) = job_rows(gradebook)
    assert row.state == "running" and row.lease_owner == "grader-b"
    with gradebook.sessions.begin() as s:
        q.finish(s, second)
    (row,) = job_rows(gradebook)
    assert row.state == "done" and row.attempts == 2


def test_retry_bound_marks_job_failed_with_reason(gradebook):
    make_submissions(gradebook, 1)
    q = gradebook.queue  # max_attempts 3
    for attempt in (1, 2, 3):
        job = q.claim(f"crashing-{attempt}")
        assert job is not None and job.attempt == attempt
        time.sleep(2.3)  # the grader "dies": its lease runs out
    assert q.claim("late") is None
    (row,) = job_rows(gradebook)
    assert row.state == "failed"
    assert "gave up after 3 attempts" in row.error
    assert q.counts()["failed"] == 1


def test_engine_errors_are_retried_then_failed(gradebook):
    make_submissions(gradebook, 1)
    q = gradebook.queue
    states = []
    for _ in range(3):
        job = q.claim("w")
        states.append(q.fail(job, "sandbox error (operator): docker is down"))
    assert states == ["queued", "queued", "failed"]
    (row,) = job_rows(gradebook)
    assert row.state == "failed" and row.error.endswith("docker is down")
    assert q.claim("w") is None


KILLED_WORKER = textwrap.dedent("""
    import sys, time
    from grader.service.config import GraderSettings
    from grader.service.gradebook import open_gradebook
    book = open_gradebook(GraderSettings(database_url=sys.argv[1], blob_dir=sys.argv[2],
                                         lease_seconds=3.0))
    done = 0
    while True:
        job = book.queue.claim("doomed")
        if job is None:
            break
        if done == 2:  # mid-batch: holds its third job when it is killed
            print("holding", job.id, flush=True)
            time.sleep(600)
        with book.sessions.begin() as s:
            book.queue.finish(s, job)
        done += 1
""")


def test_grader_killed_mid_batch_loses_nothing_and_grades_nothing_twice(gradebook, db_url):
    make_submissions(gradebook, 6)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, db_url, str(gradebook.blobs.root)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": PYTHONPATH},
    )
    line = proc.stdout.readline()
    assert line.startswith("holding"), line
    held = int(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    states = {j.id: j.state for j in job_rows(gradebook)}
    assert list(states.values()).count("done") == 2 and states[held] == "running"

    finished = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(finished) < 4:
        job = gradebook.queue.claim("survivor")
        if job is None:
            time.sleep(0.2)  # the held job becomes claimable when its lease expires
            continue
        with gradebook.sessions.begin() as s:
            gradebook.queue.finish(s, job)
        finished.append(job)
    rows = job_rows(gradebook)
    assert {j.state for j in rows} == {"done"}
    # the held job was done by the survivor on its second attempt; no other job ran twice
    by_id = {j.id: j for j in rows}
    assert by_id[held].attempts == 2
    assert sorted(j.attempts for j in rows) == [1, 1, 1, 1, 1, 2]
    assert len(finished) == 4 and len({j.id for j in finished}) == 4


def test_a_stopping_grader_hands_its_job_back_without_using_an_attempt(gradebook):
    make_submissions(gradebook, 1)
    q = gradebook.queue
    job = q.claim("stopping")
    q.release(job)
    (row,) = job_rows(gradebook)
    assert row.state == "queued" and row.attempts == 0 and row.lease_owner is None
    again = q.claim("next")
    assert again.id == job.id and again.attempt == 1
    q.release(job)  # a stale owner cannot hand back someone else's job
    (row,) = job_rows(gradebook)
    assert row.state == "running" and row.lease_owner == "next"


def test_queue_status_shows_failures_only_to_their_course_instructors(gradebook):
    from grader.service.permissions import Person

    make_submissions(gradebook, 1)
    q = gradebook.queue
    for _ in range(3):
        q.fail(q.claim("w"), "sandbox error (operator): image missing")
    teacher = Person("t", frozenset({"instructors:q"}))
    other = Person("o", frozenset({"instructors:elsewhere"}))
    (failure,) = gradebook.reports.queue_status(teacher)["recent_failures"]
    assert failure["course"] == "q" and failure["username"] == "u0"
    assert "image missing" in failure["error"]
    assert gradebook.reports.queue_status(other)["recent_failures"] == []
    assert gradebook.reports.queue_status(other)["counts"]["failed"] == 1


CLAIMING_PROCESS = textwrap.dedent("""
    import sys
    from grader.service.config import GraderSettings
    from grader.service.gradebook import open_gradebook
    book = open_gradebook(GraderSettings(database_url=sys.argv[1], blob_dir=sys.argv[2]))
    mine = []
    while True:
        job = book.queue.claim(sys.argv[3])
        if job is None:
            break
        with book.sessions.begin() as s:
            book.queue.finish(s, job)
        mine.append(job.id)
    print(" ".join(map(str, mine)))
""")


def test_several_grader_processes_share_one_queue(gradebook, db_url):
    make_submissions(gradebook, 40)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMING_PROCESS, db_url, str(gradebook.blobs.root), f"p{i}"],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": PYTHONPATH},
        )
        for i in range(3)
    ]
    claimed = []
    for p in procs:
        out, _ = p.communicate(timeout=90)
        assert p.returncode == 0
        claimed += [int(x) for x in out.split()]
    assert sorted(claimed) == sorted(j.id for j in job_rows(gradebook))
    assert len(claimed) == len(set(claimed)) == 40
    assert {(j.state, j.attempts) for j in job_rows(gradebook)} == {("done", 1)}


def _learner_of(book, job) -> str:
    with book.sessions() as s:
        return s.get(Submission, job.submission_id).username


def test_one_learner_s_flood_holds_one_worker_and_waits_behind_the_others(gradebook):
    """Six submissions of `flood` queued first, then one each of a, b, c: with three
    workers, `flood` never has two jobs running, and a, b and c are all started before
    `flood`'s second job."""
    users = ["flood"] * 6 + ["a", "b", "c"]
    make_submissions(gradebook, len(users), users)
    q = gradebook.queue
    first = [q.claim(f"w{i}") for i in range(3)]
    started = [_learner_of(gradebook, j) for j in first]
    assert started.count("flood") == 1 and set(started) - {"flood"} <= {"a", "b", "c"}
    order = list(started)
    running = {j.owner: j for j in first}
    while True:
        # the worker holding flood's job finishes first; others take turns
        owner = next((o for o, j in running.items() if _learner_of(gradebook, j) == "flood"),
                     next(iter(running)))
        with gradebook.sessions.begin() as s:
            q.finish(s, running.pop(owner))
        job = q.claim(owner)
        if job is None:
            break
        running[owner] = job
        order.append(_learner_of(gradebook, job))
        now_running = [_learner_of(gradebook, j) for j in running.values()]
        assert now_running.count("flood") <= 1, now_running
    assert sorted(order) == sorted(users)
    second_flood = [i for i, u in enumerate(order) if u == "flood"][1]
    assert {"a", "b", "c"} <= set(order[:second_flood]), order
    assert order[-5:] == ["flood"] * 5  # the flood runs last, one at a time


def test_fair_order_under_concurrent_claims(gradebook):
    """Many workers claiming at once still give each learner at most one running job."""
    users = ["x"] * 5 + ["y"] * 5 + ["z"]
    make_submissions(gradebook, len(users), users)
    claimed, lock = [], threading.Lock()

    def worker(i):
        job = gradebook.queue.claim(f"c{i}")
        if job is not None:
            with lock:
                claimed.append(_learner_of(gradebook, job))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == ["x", "y", "z"]
