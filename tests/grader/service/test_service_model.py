"""Schema migrations, the gradebook's storage rules, late penalties, blob store, webhook."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from service_support import source_files
from sqlalchemy import select
from tornado import httpserver, web

from grader.engine.autograde import CellGrade, GradeResult, NotebookGrade
from grader.engine.late import notebook_penalty, seconds_late
from grader.service.blobstore import BlobNotFound, DirectoryBlobStore
from grader.service.errors import Forbidden, NotFound
from grader.service.orm import (
    Base,
    Submission,
    WebhookDelivery,
    alembic_config,
    database_revision,
    make_engine,
    upgrade_database,
    utcnow,
)
from grader.service.permissions import OPERATOR, Person
from studio_contracts.events import validate_grade_event

pytestmark = pytest.mark.timeout(120)


def test_migrations_build_the_models_schema_on_a_fresh_database(db_url):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    assert database_revision(db_url) is None
    upgrade_database(db_url)
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert database_revision(db_url) == head
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    command.downgrade(alembic_config(db_url), "base")
    assert database_revision(db_url) is None
    upgrade_database(db_url)
    assert database_revision(db_url) == head
    engine.dispose()


# ---- late penalties: the same numbers as nbgrader's plugin ---------------------------


@pytest.mark.parametrize("method", ["none", "zero"])
@pytest.mark.parametrize("score, late", [(3.0, 0.0), (3.0, 1.0), (0.0, 7200.0), (2.5, 90000.0)])
def test_late_penalty_matches_nbgrader(method, score, late):
    from nbgrader.plugins import LateSubmissionPlugin

    plugin = LateSubmissionPlugin(penalty_method=method)
    expected = 0.0
    if late > 0:  # nbgrader only asks the plugin for late notebooks
        expected = plugin.late_submission_penalty("s", score, late) or 0.0
        expected = min(max(expected, 0.0), score)  # AssignLatePenalties._check_late_penalty
    assert notebook_penalty(method, score, late) == expected


def test_subtract_per_hour_counts_started_hours_and_never_goes_below_zero():
    assert notebook_penalty("subtract_per_hour", 10, 1, per_hour=1) == 1
    assert notebook_penalty("subtract_per_hour", 10, 3601, per_hour=1) == 2
    assert notebook_penalty("subtract_per_hour", 1.5, 10 * 3600, per_hour=1) == 1.5
    due = dt.datetime(2030, 1, 1)
    assert seconds_late(due - dt.timedelta(seconds=5), due) == 0
    assert seconds_late(due + dt.timedelta(seconds=5), due) == 5
    assert seconds_late(due, None) == 0


# ---- blob store ------------------------------------------------------------------------


def test_blob_store_is_content_addressed_and_trees_round_trip(tmp_path):
    store = DirectoryBlobStore(tmp_path / "b")
    sha = store.put(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest() and store.put(b"hello") == sha
    tree = store.put_tree({"a.ipynb": b"1", "data/x.csv": b"2"})
    assert store.put_tree({"data/x.csv": b"2", "a.ipynb": b"1"}) == tree  # order-free
    out = store.materialize(tree, tmp_path / "out")
    assert (out / "data" / "x.csv").read_bytes() == b"2"
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    with pytest.raises(BlobNotFound):
        store.get("../../etc/passwd")


# ---- gradebook storage rules with the engine's result objects ---------------------------


def _release(book, course="algo", **options):
    from grader.engine.release import build_release

    book.courses.ensure(course)
    folder = book.blobs.root.parent / "src" / "ps1"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in source_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    build = build_release(folder, "ps1")
    return book.releases.store("prof", course, "ps1", source_files(), build, **options)


def _result(test_score: float, explain_manual: bool = True) -> GradeResult:
    cells = {
        "test_squares": CellGrade(max_score=2, auto_score=test_score, needs_manual_grade=False),
        "explain": CellGrade(max_score=1, auto_score=None, needs_manual_grade=explain_manual),
    }
    return GradeResult(notebooks={"ps1": NotebookGrade(name="ps1", cells=cells,
                                                       feedback_html="<p>fb</p>")})


def _store(book, sub_id, result):
    with book.sessions.begin() as s:
        book.results.store(s, s.get(Submission, sub_id), result, {"ps1": "<p>fb</p>"})


def test_grades_manual_scores_and_regrades(gradebook):
    _release(gradebook)
    ann = Person("ann", frozenset({"learners:algo"}))
    prof = Person("prof", frozenset({"instructors:algo"}))
    sub = gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"{}"})
    _store(gradebook, sub["id"], _result(2.0))
    got = gradebook.submissions.get(ann, sub["id"])
    assert got["status"] == "grading"  # its job is still queued in this test
    cells = {c["cell_id"]: c for c in got["cells"]}
    assert cells["test_squares"]["score"] == 2 and cells["explain"]["needs_manual_grade"]
    assert got["score"] == 2 and got["max_score"] == 3 and got["needs_manual_grade"]

    with pytest.raises(Exception, match="not an instructor"):
        gradebook.results.set_manual_score(ann, sub["id"], "ps1", "explain", 1)
    with pytest.raises(Exception, match="outside"):
        gradebook.results.set_manual_score(prof, sub["id"], "ps1", "explain", 5)
    out = gradebook.results.set_manual_score(prof, sub["id"], "ps1", "explain", 0.5, "good start")
    assert out["score"] == 2.5 and not out["needs_manual_grade"]
    # a comment alone keeps the score
    out = gradebook.results.set_manual_score(prof, sub["id"], "ps1", "explain", comment="ok")
    assert out["score"] == 2.5
    # a regrade replaces auto scores but keeps the instructor's manual score and comment
    _store(gradebook, sub["id"], _result(0.0))
    got = gradebook.submissions.get(prof, sub["id"])
    cells = {c["cell_id"]: c for c in got["cells"]}
    assert cells["test_squares"]["score"] == 0
    assert cells["explain"]["manual_score"] == 0.5 and cells["explain"]["comment"] == "ok"
    assert got["score"] == 0.5 and not got["needs_manual_grade"]
    assert gradebook.submissions.feedback(ann, sub["id"], "ps1") == "<p>fb</p>"
    with pytest.raises(Exception, match="does not exist"):
        gradebook.submissions.feedback(Person("bob", frozenset({"learners:algo"})), sub["id"], "ps1")


def test_late_submission_is_penalised_per_release_policy(gradebook):
    due = (utcnow() - dt.timedelta(minutes=90)).isoformat() + "Z"
    from grader.service.uploads import parse_due

    _release(gradebook, due_at=parse_due(due), late_policy="subtract_per_hour",
             late_penalty_per_hour=0.75)
    ann = Person("ann", frozenset({"learners:algo"}))
    sub = gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"{}"})
    _store(gradebook, sub["id"], _result(2.0, explain_manual=False))
    got = gradebook.submissions.get(ann, sub["id"])
    assert 5400 <= got["seconds_late"] < 5500  # two started hours
    assert got["late_penalty"] == 1.5 and got["raw_score"] == 2 and got["score"] == 0.5


def test_regrade_statistics_and_export(gradebook):
    _release(gradebook)
    prof = Person("prof", frozenset({"instructors:algo"}))
    scores = {"ann": 2.0, "bob": 0.0, "cy": 2.0}
    for name, score in scores.items():
        sub = gradebook.submissions.submit(Person(name, frozenset({"learners:algo"})), "algo", "ps1",
                               {"ps1.ipynb": b"{}"})
        with gradebook.sessions.begin() as s:
            gradebook.queue.finish(s, gradebook.queue.claim("w"))
        _store(gradebook, sub["id"], _result(score, explain_manual=False))
    stats = gradebook.reports.statistics(prof, "algo", "ps1", bins=3)
    assert stats["learners"] == 3 and stats["histogram"]["counts"] == [1, 0, 2]
    (test_cell,) = [c for c in stats["cells"] if c["cell_id"] == "test_squares"]
    assert test_cell["success_rate"] == pytest.approx(2 / 3)
    csv_text = gradebook.reports.export_csv(OPERATOR, "algo")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("course,assignment,username")
    assert [ln.split(",")[2] for ln in lines[1:]] == ["ann", "bob", "cy"]
    assert [float(ln.split(",")[8]) for ln in lines[1:]] == [2.0, 0.0, 2.0]
    queued = gradebook.submissions.regrade(prof, "algo", "ps1")
    assert len(queued) == 3
    assert gradebook.submissions.regrade(prof, "algo", "ps1") == []  # already queued: not twice


# ---- webhook -------------------------------------------------------------------------


class Receiver(web.RequestHandler):
    calls: list = []

    def post(self):
        Receiver.calls.append((dict(self.request.headers), self.request.body))
        if len(Receiver.calls) == 1:
            raise web.HTTPError(503)  # the CMS is down at first: the event must be retried
        self.write("ok")


async def test_webhook_signs_and_retries_grade_events(gradebook):
    from grader.service.webhook import CMSNotifier

    Receiver.calls = []
    server = httpserver.HTTPServer(web.Application([("/hook", Receiver)]))
    sock_port = _listen(server)
    gradebook.settings.webhook_url = f"http://127.0.0.1:{sock_port}/hook"
    gradebook.settings.webhook_secret = "s3cret"
    _release(gradebook)
    ann = Person("ann", frozenset({"learners:algo"}))
    sub = gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"{}"})
    _store(gradebook, sub["id"], _result(2.0))
    notifier = CMSNotifier(gradebook.settings, gradebook.sessions)
    assert await notifier.deliver_due() == 0  # 503
    with gradebook.sessions.begin() as s:  # skip the backoff wait
        for d in s.scalars(select(WebhookDelivery)):
            d.next_attempt_at = utcnow()
    assert await notifier.deliver_due() == 1
    server.stop()
    headers, body = Receiver.calls[-1]
    expected = hmac.new(b"s3cret", headers["X-Studio-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Studio-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert validate_grade_event(payload) == payload  # what the site's receiver checks
    assert payload["event"] == "submission.graded" and payload["username"] == "ann"
    assert payload["course"] == "algo" and payload["score"] == 2
    with gradebook.sessions() as s:
        (d,) = s.scalars(select(WebhookDelivery)).all()
        assert d.state == "delivered" and d.attempts == 2


def test_no_webhook_url_means_no_events(gradebook):
    _release(gradebook)
    ann = Person("ann", frozenset({"learners:algo"}))
    sub = gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"{}"})
    _store(gradebook, sub["id"], _result(2.0))
    with gradebook.sessions() as s:
        assert s.scalars(select(WebhookDelivery)).all() == []


def _listen(server) -> int:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server.add_sockets([sock])
    return sock.getsockname()[1]


def test_simultaneous_submissions_of_one_learner_all_kept_with_distinct_attempts(gradebook):
    import threading

    _release(gradebook)
    ann = Person("ann", frozenset({"learners:algo"}))
    results, errors = [], []

    def submit(i):
        try:
            results.append(gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"%d" % i}))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r["attempt"] for r in results) == [1, 2, 3, 4, 5, 6]
    assert len({r["content_hash"] for r in results}) == 6


@pytest.mark.docker
async def test_release_check_without_a_usable_sandbox_is_a_named_operator_error(gradebook):
    from traitlets.config import Config

    from grader.engine.sandbox import SandboxUnavailable
    from grader.service.app import make_sandbox_pool

    gradebook.courses.ensure("algo")
    config = Config()
    config.DockerSandbox.image = "learning-studio/no-such-image:never"
    config.DockerSandbox.name_prefix = "ls-test-nosandbox-"
    config.SandboxPool.warm = 0
    pool = make_sandbox_pool(config, remove_stale=False)
    try:
        with pytest.raises(SandboxUnavailable, match="nothing was published"):
            await gradebook.releases.publish(pool, OPERATOR, "algo", "ps1", source_files(), {},
                                  check=True)
    finally:
        await pool.close()
    with pytest.raises(Exception, match="has not been released"):
        gradebook.releases.student_release(OPERATOR, "algo", "ps1")


@pytest.mark.docker
async def test_sandbox_outage_defers_jobs_without_using_attempts(gradebook):
    from traitlets.config import Config

    from grader.service.app import make_sandbox_pool
    from grader.service.worker import GradingWorker

    _release(gradebook)
    ann = Person("ann", frozenset({"learners:algo"}))
    student = gradebook.releases.student_release(ann, "algo", "ps1")["files"]
    gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": student["ps1.ipynb"]})
    config = Config()
    config.DockerSandbox.image = "learning-studio/no-such-image:never"
    config.DockerSandbox.name_prefix = "ls-test-nosandbox-"
    config.SandboxPool.warm = 0
    pool = make_sandbox_pool(config, remove_stale=False)
    worker = GradingWorker(gradebook, pool, name="w")
    try:
        assert await worker.run_once() == "deferred"
        assert await worker.run_once() == "deferred"
    finally:
        await pool.close()
    assert worker.backoff == 4.0
    status = gradebook.reports.queue_status()
    assert status["counts"]["queued"] == 1 and status["counts"]["failed"] == 0
    (reason,) = gradebook.reports.waiting_reasons()
    assert "waiting for a sandbox" in reason


def _blob_files(book) -> set[str]:
    return {p.relative_to(book.blobs.root).as_posix()
            for p in book.blobs.root.rglob("*") if p.is_file()}


def test_refused_uploads_write_nothing(gradebook):
    """Authorise, then store: a request that is refused leaves no bytes behind."""
    _release(gradebook)
    before = _blob_files(gradebook)
    stranger = Person("mallory", frozenset())
    learner = Person("ann", frozenset({"learners:algo"}))
    unique = b'{"cells": [], "x": "' + b"z" * 5000 + b'"}'
    with pytest.raises(NotFound):
        gradebook.submissions.submit(stranger, "algo", "ps1", {"ps1.ipynb": unique})
    with pytest.raises(Forbidden):
        gradebook.lessons.store(learner, "algo", "intro", {"l.ipynb": unique}, path="l.ipynb")
    with pytest.raises(Forbidden):
        gradebook.lessons.store(stranger, "algo", "intro", {"l.ipynb": unique}, path="l.ipynb")
    assert _blob_files(gradebook) == before
    # the same upload from someone allowed is stored
    gradebook.submissions.submit(learner, "algo", "ps1", {"ps1.ipynb": unique})
    assert len(_blob_files(gradebook)) > len(before)


def test_garbage_collection_removes_only_old_unreferenced_files(gradebook):
    import os
    import time

    _release(gradebook)
    learner = Person("ann", frozenset({"learners:algo"}))
    sub = gradebook.submissions.submit(learner, "algo", "ps1", {"ps1.ipynb": b'{"cells": []}'})
    _store(gradebook, sub["id"], _result(2.0))
    gradebook.lessons.store(OPERATOR, "algo", "intro", {"l/a.ipynb": b"{}", "l/d.csv": b"a\n"},
                            path="l/a.ipynb")
    referenced = _blob_files(gradebook)
    orphan_old = gradebook.blobs.put(b"left by a refused request")
    orphan_new = gradebook.blobs.put(b"an upload still in flight")
    old = time.time() - 2 * 24 * 3600
    os.utime(gradebook.blobs._path(orphan_old), (old, old))
    for rel in referenced:  # being old does not make a referenced file garbage
        os.utime(gradebook.blobs.root / rel, (old, old))

    usage = gradebook.storage.usage()
    assert set(usage["courses"]) == {"algo"} and usage["courses"]["algo"] > 0
    assert usage["unreferenced_bytes"] == len(b"left by a refused request") + len(
        b"an upload still in flight")
    dry = gradebook.storage.collect_garbage(dry_run=True)
    assert dry["removed"] == 1 and gradebook.blobs.exists(orphan_old)
    report = gradebook.storage.collect_garbage()
    assert report == {"removed": 1, "removed_bytes": len(b"left by a refused request"),
                      "dry_run": False, "retention_seconds": 24 * 3600.0}
    assert not gradebook.blobs.exists(orphan_old) and gradebook.blobs.exists(orphan_new)
    # everything the course refers to is still readable
    assert gradebook.submissions.files(learner, sub["id"]) == {"ps1.ipynb": b'{"cells": []}'}
    assert gradebook.lessons.lesson(OPERATOR, "algo", "intro")["files"]["l/d.csv"] == b"a\n"
    assert gradebook.releases.student_release(learner, "algo", "ps1")["files"]
    assert gradebook.submissions.feedback(learner, sub["id"], "ps1")
    # with no retention the in-flight one goes too
    assert gradebook.storage.collect_garbage(older_than=0)["removed"] == 1


def test_a_learner_submitting_too_fast_is_told_when_to_try_again(gradebook):
    from grader.service.errors import TooManyRequests

    gradebook.settings.submission_rate = 3
    _release(gradebook)
    ann = Person("ann", frozenset({"learners:algo"}))
    bob = Person("bob", frozenset({"learners:algo"}))
    for _ in range(3):
        gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"{}"})
    with pytest.raises(TooManyRequests, match=r"3 times in the last minute.*again in \d+ s") as e:
        gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b'{"new": 1}'})
    assert e.value.status == 429 and 1 <= e.value.retry_after <= 61
    assert not gradebook.blobs.exists(hashlib.sha256(b'{"new": 1}').hexdigest())  # not stored
    gradebook.submissions.submit(bob, "algo", "ps1", {"ps1.ipynb": b"{}"})  # others go on
    gradebook.settings.submission_rate = 0
    gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": b"{}"})  # 0: no limit


def test_course_storage_by_kind_and_assignment_for_instructors(gradebook):
    """What an instructor sees of their course's storage: distinct files and their bytes by
    kind and by assignment, each file once in the total, another course's files not."""
    import os

    def on_disk(sha: str) -> int:
        return os.path.getsize(gradebook.blobs.root / sha[:2] / sha[2:])

    _release(gradebook)
    _release(gradebook, course="other")  # the same files in another course: not counted twice
    prof = Person("prof", frozenset({"instructors:algo"}))
    ann = Person("ann", frozenset({"learners:algo"}))
    bob = Person("bob", frozenset({"learners:algo"}))
    answer = b'{"cells": [], "answer": "' + b"a" * 3000 + b'"}'
    data = source_files()["data/input.csv"]  # released, and submitted back by ann
    subs = [gradebook.submissions.submit(ann, "algo", "ps1", {"ps1.ipynb": answer,
                                                              "data/input.csv": data}),
            gradebook.submissions.submit(bob, "algo", "ps1", {"ps1.ipynb": answer})]
    result = _result(2.0)
    result.notebooks["ps1"].graded_notebook = {"cells": [], "graded": "x" * 700}
    _store(gradebook, subs[0]["id"], result)
    lesson_files = {"l/a.ipynb": b'{"cells": ["lesson"]}', "l/d.csv": b"x,y\n1,2\n"}
    gradebook.lessons.store(prof, "algo", "intro", lesson_files, path="l/a.ipynb")

    got = gradebook.storage.course_usage(prof, "algo")
    kinds = got["kinds"]
    # submissions: two attempts, the notebook stored once, the data file once, two manifests
    assert kinds["submissions"] == {
        "count": 2, "learners": 2, "files": 2,
        "bytes": len(answer) + len(data) + sum(on_disk(s["content_hash"]) for s in subs)}
    graded = json.dumps(result.notebooks["ps1"].graded_notebook).encode()
    assert kinds["feedback"] == {"count": 1, "files": 2,
                                 "bytes": len(b"<p>fb</p>") + len(graded)}
    manifest = json.dumps({"files": {k: hashlib.sha256(v).hexdigest()
                                     for k, v in sorted(lesson_files.items())}},
                          sort_keys=True).encode()
    assert kinds["lessons"] == {"count": 1, "files": 2,
                                "bytes": sum(map(len, lesson_files.values())) + len(manifest)}
    # one version: the source notebook, the data file, the student notebook, the build
    assert kinds["releases"]["count"] == 1 and kinds["releases"]["files"] == 4
    # the data file is in releases and in submissions, once in the total
    assert got["total_bytes"] == sum(k["bytes"] for k in kinds.values()) - len(data)
    assert got["files"] == sum(k["files"] for k in kinds.values()) - 1
    # the operator's per-course figure is the same number
    assert gradebook.storage.usage()["courses"]["algo"] == got["total_bytes"]
    (ps1,) = got["assignments"]
    assert ps1["assignment"] == "ps1"
    assert ps1["total_bytes"] == got["total_bytes"] - kinds["lessons"]["bytes"]
    assert {k: ps1[k] for k in ("releases", "submissions", "feedback")} == {
        k: kinds[k] for k in ("releases", "submissions", "feedback")}
    assert got["missing_files"] == 0
    assert got["unreferenced_removed_after_seconds"] == 24 * 3600.0
    assert set(got["kept"]) == {"releases", "submissions", "feedback", "lessons"}

    # a regrade replaces the feedback: the old files are no longer the course's
    _store(gradebook, subs[0]["id"], _result(1.0))
    again = gradebook.storage.course_usage(prof, "algo")
    assert again["kinds"]["feedback"] == {"count": 1, "files": 1, "bytes": len(b"<p>fb</p>")}
    # a lost file is reported, not an error
    os.unlink(gradebook.blobs.root / subs[1]["content_hash"][:2] / subs[1]["content_hash"][2:])
    assert gradebook.storage.course_usage(prof, "algo")["missing_files"] == 1

    with pytest.raises(Forbidden, match="not an instructor"):
        gradebook.storage.course_usage(ann, "algo")
    with pytest.raises(NotFound):
        gradebook.storage.course_usage(prof, "no-such-course")
    assert gradebook.storage.course_usage(OPERATOR, "other")["kinds"]["submissions"]["count"] == 0
