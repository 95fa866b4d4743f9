"""``python -m grader``: the instructor's and operator's command line.

Commands work on the grader's database and blob store directly (run them where the
service runs, with the same settings: --config, GRADER_DATABASE_URL, GRADER_BLOB_DIR):

    serve                         run the service (JupyterHub does this)
    db upgrade | db current       apply / show database migrations
    import COURSE_DIR             create the course, release every source/<assignment>/ and
                                  store the lessons its course.yml lists
    release COURSE ASSIGNMENT DIR release (or update) one assignment from its source folder
    grade                         grade queued jobs now, with a progress bar
    export COURSE                 grades as CSV
    status                        queue status with a progress bar
    autograde SOURCE SUB --json   grade one folder in the sandbox (no database; fixed contract)
    course validate|import|export-catalogue   courses/<slug> folders (grader/course_cli.py;
                                  import goes through the running service's API, not the
                                  database)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

from grader.courses.cli import add_course_commands, run_course_command
from grader.engine.cli import add_autograde_command, run_autograde_command
from grader.service.config import GraderSettings
from grader.service.errors import GraderError


def progress_bar(done: int, total: int, extra: str = "", width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{extra}"


def load_config(args) -> Config:
    config = Config()
    path = getattr(args, "config", None) or "grader_config.py"
    if os.path.exists(path):
        loader = PyFileConfigLoader(os.path.basename(path), os.path.dirname(os.path.abspath(path)))
        config.merge(loader.load_config())
    elif getattr(args, "config", None):
        raise GraderError(f"config file {path} does not exist")
    if getattr(args, "db", None):
        config.GraderSettings.database_url = args.db
    if getattr(args, "blobs", None):
        config.GraderSettings.blob_dir = args.blobs
    return config


def settings_for(args) -> tuple[GraderSettings, Config]:
    config = load_config(args)
    return GraderSettings(config=config), config


def gradebook_for(args):
    from grader.service.gradebook import open_gradebook

    settings, config = settings_for(args)
    return open_gradebook(settings), config


def read_folder(folder: Path) -> dict[str, bytes]:
    """Files under folder by relative POSIX path, skipping checkpoints and hidden files."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") for p in rel.parts):
            files[rel.as_posix()] = path.read_bytes()
    return files


def cmd_db(args) -> int:
    from grader.service.orm import database_revision, upgrade_database

    settings, _ = settings_for(args)
    if args.action == "upgrade":
        upgrade_database(settings.database_url)
    print(f"database {settings.database_url}: revision {database_revision(settings.database_url)}")
    return 0


async def _release(gradebook, config, course, assignment, folder: Path, options, check) -> dict:
    from grader.service.gradebook import OPERATOR
    from grader.service.publish import publish_release

    pool = None
    if check is not False and gradebook.settings.check_releases:
        from grader.service.app import make_sandbox_pool

        pool = make_sandbox_pool(config, remove_stale=False)
    try:
        return await publish_release(
            gradebook, pool, OPERATOR, course, assignment, read_folder(folder), options, check
        )
    finally:
        if pool is not None:
            await pool.close()


def _release_options(args) -> dict:
    return {
        "title": getattr(args, "title", "") or "",
        "due_at": args.due,
        "late_policy": args.late_policy,
        "late_penalty_per_hour": args.late_penalty_per_hour,
        "max_submissions": args.max_submissions,
    }


def cmd_release(args) -> int:
    gradebook, config = gradebook_for(args)
    gradebook.ensure_course(args.course)
    out = asyncio.run(
        _release(gradebook, config, args.course, args.assignment, Path(args.source),
                 _release_options(args), False if args.no_check else None)
    )
    print(f"released {args.course}/{args.assignment} version {out['version']} "
          f"(max score {out['max_score']})")
    return 0


def cmd_import(args) -> int:
    """A course folder as nbgrader lays it out: <course>/source/<assignment>/*.ipynb."""
    folder = Path(args.course_dir)
    source = folder / "source"
    if not source.is_dir():
        raise GraderError(
            f"{folder} has no source/ folder: a course folder holds source/<assignment>/*.ipynb"
        )
    slug = args.course or folder.name
    gradebook, config = gradebook_for(args)
    gradebook.ensure_course(slug, args.title or "")
    assignments = sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not assignments:
        raise GraderError(f"{source} has no assignment folders")
    for i, path in enumerate(assignments, 1):
        out = asyncio.run(
            _release(gradebook, config, slug, path.name, path, _release_options(args),
                     False if args.no_check else None)
        )
        print(f"{progress_bar(i, len(assignments))} {slug}/{path.name} v{out['version']}")
    manifest = folder / "course.yml"
    if manifest.is_file():
        print(f"{slug}: {_import_lessons(gradebook, slug, folder, manifest)} lesson(s) stored")
    return 0


def _import_lessons(gradebook, slug: str, folder: Path, manifest: Path) -> int:
    """Store the lessons course.yml lists (notebook + data files), replacing older ones."""
    import yaml

    from grader.service.gradebook import OPERATOR
    from grader.service.lessons import CourseLessons

    lessons = (yaml.safe_load(manifest.read_text()) or {}).get("lessons") or []
    store = CourseLessons(gradebook)
    for position, item in enumerate(lessons):
        names = [item["path"], *item.get("files", [])]
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise GraderError(f"{manifest}: lesson {item['slug']} lists missing files: "
                              f"{', '.join(missing)}")
        store.store(OPERATOR, slug, item["slug"], {n: (folder / n).read_bytes() for n in names},
                    path=item["path"], title=item.get("title", ""), position=position)
    return len(lessons)


def cmd_grade(args) -> int:
    from grader.service.app import make_sandbox_pool
    from grader.service.worker import GradingWorker, worker_id

    gradebook, config = gradebook_for(args)
    start = gradebook.queue.counts()
    total = start["queued"] + start["running"]
    done = {"n": 0, "failed": 0}

    def on_job(state: str) -> None:
        done["n"] += 1
        if state == "failed":
            done["failed"] += 1
        extra = f", {done['failed']} failed" if done["failed"] else ""
        print("\r" + progress_bar(done["n"], max(total, done["n"]), extra), end="",
              file=sys.stderr, flush=True)

    async def run() -> None:
        pool = make_sandbox_pool(config, remove_stale=False)
        stop = asyncio.Event()
        base = worker_id("cli")
        workers = [GradingWorker(gradebook, pool, f"{base}-{i}")
                   for i in range(max(1, args.workers or gradebook.settings.worker_count))]
        try:
            await asyncio.gather(*(w.run(stop, until_empty=True, on_job=on_job) for w in workers))
        finally:
            await pool.close()

    print(progress_bar(0, total), end="", file=sys.stderr, flush=True)
    asyncio.run(run())
    print(file=sys.stderr)
    counts = gradebook.queue.counts()
    print(f"graded {done['n']} jobs; queue now: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    waiting = gradebook.waiting_reasons()
    if waiting:
        print(f"{len(waiting)} jobs wait: {waiting[0]}", file=sys.stderr)
        return 1
    return 0


def cmd_export(args) -> int:
    from grader.service.gradebook import OPERATOR

    gradebook, _ = gradebook_for(args)
    text = gradebook.export_csv(OPERATOR, args.course, args.assignment)
    if args.output and args.output != "-":
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_status(args) -> int:
    gradebook, _ = gradebook_for(args)
    while True:
        status = gradebook.queue_status()
        c = status["counts"]
        total = sum(c.values())
        finished = c["done"] + c["failed"]
        line = progress_bar(finished, total, f" graded; {c['queued']} queued, "
                            f"{c['running']} running, {c['failed']} failed")
        if not args.watch:
            print(line)
            for f in status["recent_failures"][:5]:
                print(f"  failed job {f['job']} ({f['course']}/{f['assignment']}, {f['username']}, "
                      f"submission {f['submission']}): {f['error']}")
            return 0
        print("\r" + line, end="", flush=True)
        if c["queued"] + c["running"] == 0:
            print()
            return 0
        time.sleep(args.interval)


def cmd_serve(argv: list[str]) -> int:
    from grader.service.app import GraderApp

    # GraderApp parses its own traitlets options (--port=, --db=, --GraderSettings.x=...)
    GraderApp.launch_instance(argv)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="traitlets config file (default ./grader_config.py)")
    common.add_argument("--db", help="database URL (default GRADER_DATABASE_URL or ./grader.sqlite)")
    common.add_argument("--blobs", help="blob store directory (default GRADER_BLOB_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "serve", help="run the service (options: python -m grader serve --help-all)",
        add_help=False,
    )

    p = sub.add_parser("db", parents=[common], help="database migrations")
    p.add_argument("action", choices=["upgrade", "current"])
    p.set_defaults(func=cmd_db)

    def release_options(p):
        p.add_argument("--title", default="")
        p.add_argument("--due", help="due date, ISO 8601 (2030-01-31T23:59:00Z)")
        p.add_argument("--late-policy", default="none",
                       choices=["none", "zero", "subtract_per_hour"])
        p.add_argument("--late-penalty-per-hour", type=float, default=0.0)
        p.add_argument("--max-submissions", type=int)
        p.add_argument("--no-check", action="store_true",
                       help="publish without the sandbox check (not recommended)")

    p = sub.add_parser("import", parents=[common], help="import a course folder")
    p.add_argument("course_dir")
    p.add_argument("--course", help="course slug (default: the folder's name)")
    release_options(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("release", parents=[common], help="release one assignment")
    p.add_argument("course")
    p.add_argument("assignment")
    p.add_argument("source", help="folder with the assignment's source notebooks")
    release_options(p)
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("grade", parents=[common], help="grade queued submissions now")
    p.add_argument("--workers", type=int, help="parallel workers (default: worker_count)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("export", parents=[common], help="export grades as CSV")
    p.add_argument("course")
    p.add_argument("--assignment")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("status", parents=[common], help="grading queue status")
    p.add_argument("--watch", action="store_true", help="refresh until the queue is empty")
    p.add_argument("--interval", type=float, default=1.0)
    p.set_defaults(func=cmd_status)

    add_autograde_command(sub)
    add_course_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return cmd_serve(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "autograde":
        return run_autograde_command(args)
    if args.command == "course":
        return run_course_command(args)
    try:
        return args.func(args)
    except GraderError as e:
        print(f"error ({e.code}): {e.message}", file=sys.stderr)
        return 1
    except Exception as e:
        from grader.service.gradebook import DatabaseNotReady

        if isinstance(e, DatabaseNotReady):
            print(f"error: {e}", file=sys.stderr)
            return 1
        raise
