"""The service's subcommands: ``serve`` is the service itself (grader.service.app);
``db``, ``release``, ``grade``, ``status`` and ``export`` work on its database and blob
store directly, and ``autograde`` grades one folder with no database at all."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from traitlets import Bool, Enum, Float, Integer, Unicode

from grader.cli.base import CommandFailed, GraderCommand, progress_bar, read_folder


# --------------------------------------------------------------------------- database
class DbUpgrade(GraderCommand):
    name = "db upgrade"
    description = "Apply the grader database's pending migrations (Alembic)."

    def run(self) -> int:
        from grader.service.orm import database_revision, upgrade_database

        url = self.settings().database_url
        upgrade_database(url)
        print(f"database {url}: revision {database_revision(url)}")
        return 0


class DbCurrent(GraderCommand):
    name = "db current"
    description = "Show the grader database's migration revision."

    def run(self) -> int:
        from grader.service.orm import database_revision

        url = self.settings().database_url
        print(f"database {url}: revision {database_revision(url)}")
        return 0


class DbCommand(GraderCommand):
    name = "db"
    description = "The grader database's migrations."
    subcommands = {
        "upgrade": (DbUpgrade, DbUpgrade.description),
        "current": (DbCurrent, DbCurrent.description),
    }


# --------------------------------------------------------------------------- releases
class ReleaseCommand(GraderCommand):
    name = "release"
    description = """Release (or update) one assignment: COURSE ASSIGNMENT SOURCE_DIR, where
    SOURCE_DIR holds the assignment's nbgrader source notebooks and data files. The course
    is created if missing. The release is checked in a sandbox first (solution passes,
    student version fails) unless --no-check."""

    title = Unicode("", help="The assignment's title (default: its name).").tag(config=True)
    due = Unicode("", help="Due date, ISO 8601 (2030-01-31T23:59:00Z); empty: none.").tag(
        config=True)
    late_policy = Enum(["none", "zero", "subtract_per_hour"], "none",
                       help="What a late submission loses (grader.engine.late).").tag(config=True)
    late_penalty_per_hour = Float(0.0, help="Points per started hour late, with "
                                  "subtract_per_hour.").tag(config=True)
    max_submissions = Integer(0, help="Submissions a learner may make; 0: no limit.").tag(
        config=True)
    check = Bool(True, help="Check the release in a sandbox before publishing.").tag(config=True)

    aliases = {
        **GraderCommand.aliases,
        "title": "ReleaseCommand.title",
        "due": "ReleaseCommand.due",
        "late-policy": "ReleaseCommand.late_policy",
        "late-penalty-per-hour": "ReleaseCommand.late_penalty_per_hour",
        "max-submissions": "ReleaseCommand.max_submissions",
    }
    flags = {
        **GraderCommand.flags,
        "no-check": ({"ReleaseCommand": {"check": False}},
                     "publish without the sandbox check (not recommended)"),
    }

    def run(self) -> int:
        from grader.service.permissions import OPERATOR

        course, assignment, source = self.positional("course", "assignment", "source_dir")
        folder = Path(source)
        if not folder.is_dir():
            raise CommandFailed(f"{folder} is not a folder of source notebooks", 2)
        book = self.gradebook()
        book.courses.ensure(course)
        options = {
            "title": self.title, "due_at": self.due or None, "late_policy": self.late_policy,
            "late_penalty_per_hour": self.late_penalty_per_hour,
            "max_submissions": self.max_submissions or None,
        }

        async def publish() -> dict:
            pool = None
            if self.check and book.settings.check_releases:
                from grader.engine.sandbox import SandboxPool

                # remove_stale=False: a CLI next to a running service must not remove the
                # service's sandboxes (they share the name prefix)
                pool = SandboxPool(config=self.config, remove_stale=False)
            try:
                return await book.releases.publish(
                    pool, OPERATOR, course, assignment, read_folder(folder), options,
                    None if self.check else False)
            finally:
                if pool is not None:
                    await pool.close()

        out = asyncio.run(publish())
        print(f"released {course}/{assignment} version {out['version']} "
              f"(max score {out['max_score']})")
        return 0


# --------------------------------------------------------------------------- grading
class GradeCommand(GraderCommand):
    name = "grade"
    description = "Grade the queued submissions now, in sandboxes, with a progress bar."

    workers = Integer(0, help="Grading workers at once (0: GraderSettings.worker_count).").tag(
        config=True)
    aliases = {**GraderCommand.aliases, "workers": "GradeCommand.workers"}

    def run(self) -> int:
        from grader.engine.sandbox import SandboxPool
        from grader.service.worker import GradingWorker, worker_id

        book = self.gradebook()
        start = book.queue.counts()
        total = start["queued"] + start["running"]
        done = {"n": 0, "failed": 0}

        def on_job(state: str) -> None:
            done["n"] += 1
            if state == "failed":
                done["failed"] += 1
            extra = f", {done['failed']} failed" if done["failed"] else ""
            print("\r" + progress_bar(done["n"], max(total, done["n"]), extra), end="",
                  file=sys.stderr, flush=True)

        async def grade() -> None:
            pool = SandboxPool(config=self.config, remove_stale=False)
            stop = asyncio.Event()
            base = worker_id("cli")
            workers = [GradingWorker(book, pool, f"{base}-{i}")
                       for i in range(max(1, self.workers or book.settings.worker_count))]
            try:
                await asyncio.gather(*(w.run(stop, until_empty=True, on_job=on_job)
                                       for w in workers))
            finally:
                await pool.close()

        print(progress_bar(0, total), end="", file=sys.stderr, flush=True)
        asyncio.run(grade())
        print(file=sys.stderr)
        counts = book.queue.counts()
        print(f"graded {done['n']} jobs; queue now: "
              + ", ".join(f"{k} {v}" for k, v in counts.items()))
        waiting = book.reports.waiting_reasons()
        if waiting:
            print(f"{len(waiting)} jobs wait: {waiting[0]}", file=sys.stderr)
            return 1
        return 0


class StatusCommand(GraderCommand):
    name = "status"
    description = "The grading queue: how many graded, queued, running, failed."

    watch = Bool(False, help="Refresh until the queue is empty.").tag(config=True)
    interval = Float(1.0, help="Seconds between refreshes with --watch.").tag(config=True)
    aliases = {**GraderCommand.aliases, "interval": "StatusCommand.interval"}
    flags = {**GraderCommand.flags,
             "watch": ({"StatusCommand": {"watch": True}}, "refresh until the queue is empty")}

    def run(self) -> int:
        book = self.gradebook()
        while True:
            status = book.reports.queue_status()
            c = status["counts"]
            finished = c["done"] + c["failed"]
            line = progress_bar(finished, sum(c.values()), f" graded; {c['queued']} queued, "
                                f"{c['running']} running, {c['failed']} failed")
            if not self.watch:
                print(line)
                for f in status["recent_failures"][:5]:
                    print(f"  failed job {f['job']} ({f['course']}/{f['assignment']}, "
                          f"{f['username']}, submission {f['submission']}): {f['error']}")
                return 0
            print("\r" + line, end="", flush=True)
            if c["queued"] + c["running"] == 0:
                print()
                return 0
            time.sleep(self.interval)


class ExportCommand(GraderCommand):
    name = "export"
    description = "A course's grades as CSV (one row per learner and assignment): COURSE."

    assignment = Unicode("", help="Only this assignment.").tag(config=True)
    output = Unicode("-", help="File to write; '-' for standard output.").tag(config=True)
    aliases = {**GraderCommand.aliases, "assignment": "ExportCommand.assignment",
               "output": "ExportCommand.output", "o": "ExportCommand.output"}

    def run(self) -> int:
        from grader.service.permissions import OPERATOR

        (course,) = self.positional("course")
        text = self.gradebook().reports.export_csv(OPERATOR, course, self.assignment or None)
        if self.output != "-":
            Path(self.output).write_text(text)
            print(f"wrote {self.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0


class AutogradeCommand(GraderCommand):
    name = "autograde"
    description = """Grade the notebooks in SUBMISSION_DIR against the source notebooks of
    the same names in SOURCE_DIR, in a sandbox container, as nbgrader autograde scores them.
    With --json, prints one JSON object: the contract (score, max_score,
    needs_manual_grade, notebooks). Exit 2: a folder or the source is unusable; 1: no
    sandbox could run it."""

    json_output = Bool(False, help="Print the grades as one JSON object.").tag(config=True)
    feedback_dir = Unicode("", help="Also write NAME.html feedback files here.").tag(config=True)
    timeout = Integer(0, help="Seconds per cell (nbgrader's Execute.timeout; 0: its "
                      "default, 30).").tag(config=True)
    aliases = {**GraderCommand.aliases, "feedback-dir": "AutogradeCommand.feedback_dir",
               "timeout": "AutogradeCommand.timeout"}
    flags = {**GraderCommand.flags,
             "json": ({"AutogradeCommand": {"json_output": True}}, "print one JSON object")}

    def run(self) -> int:
        from grader.engine.autograde import autograde
        from grader.engine.release import ReleaseError, build_release
        from grader.engine.sandbox import SandboxError

        source_dir, submission_dir = map(Path, self.positional("source_dir", "submission_dir"))
        for folder, what in ((source_dir, "SOURCE_DIR"), (submission_dir, "SUBMISSION_DIR")):
            if not folder.is_dir():
                raise CommandFailed(f"{what} {folder} is not a folder", 2)
        config = self.config
        if self.timeout:
            config.Execute.timeout = self.timeout
        try:
            build = build_release(source_dir)
            result = autograde(build, submission_dir, config=config,
                               context={"source": str(source_dir),
                                        "submission": str(submission_dir)})
        except ReleaseError as e:
            raise CommandFailed(f"the source notebooks cannot be graded against: {e}", 2) from e
        except SandboxError as e:
            raise CommandFailed(str(e), 1) from e
        if self.feedback_dir:
            out = Path(self.feedback_dir)
            out.mkdir(parents=True, exist_ok=True)
            for name, nb in result.notebooks.items():
                if nb.feedback_html:
                    (out / f"{name}.html").write_text(nb.feedback_html)
        if self.json_output:
            print(json.dumps(result.to_json()))
        else:
            print(f"score {result.score:g} / {result.max_score:g}"
                  + (" (needs manual grading)" if result.needs_manual_grade else ""))
            for message in result.messages:
                print(f"  {message}")
        return 0


# --------------------------------------------------------------------------- blob store
class BlobsGc(GraderCommand):
    name = "blobs gc"
    description = """Remove stored files nothing refers to (left by refused or failed
    requests, or by deleted rows) once they are older than --older-than seconds (default
    GraderSettings.blob_retention_seconds). The service does this every
    GraderSettings.blob_gc_interval."""

    older_than = Float(-1.0, help="Seconds; -1: GraderSettings.blob_retention_seconds.").tag(
        config=True)
    dry_run = Bool(False, help="Only say what would be removed.").tag(config=True)
    aliases = {**GraderCommand.aliases, "older-than": "BlobsGc.older_than"}
    flags = {**GraderCommand.flags,
             "dry-run": ({"BlobsGc": {"dry_run": True}}, "only say what would be removed")}

    def run(self) -> int:
        report = self.gradebook().storage.collect_garbage(
            None if self.older_than < 0 else self.older_than, dry_run=self.dry_run)
        verb = "would remove" if self.dry_run else "removed"
        print(f"{verb} {report['removed']} unreferenced file(s), {report['removed_bytes']} "
              f"bytes (older than {report['retention_seconds']:g} s)")
        return 0


class BlobsUsage(GraderCommand):
    name = "blobs usage"
    description = "Bytes the blob store holds per course, in all, and unreferenced."

    json_output = Bool(False, help="Print one JSON object.").tag(config=True)
    flags = {**GraderCommand.flags,
             "json": ({"BlobsUsage": {"json_output": True}}, "print one JSON object")}

    def run(self) -> int:
        usage = self.gradebook().storage.usage()
        if self.json_output:
            print(json.dumps(usage))
            return 0
        for course, size in usage["courses"].items():
            print(f"{course}\t{size}")
        print(f"total\t{usage['total_bytes']}\nunreferenced\t{usage['unreferenced_bytes']}")
        return 0


class BlobsCommand(GraderCommand):
    name = "blobs"
    description = "The blob store: usage per course, garbage collection."
    subcommands = {
        "gc": (BlobsGc, "remove files nothing refers to"),
        "usage": (BlobsUsage, BlobsUsage.description),
    }
