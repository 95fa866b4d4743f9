"""``course`` commands of the grader CLI (``python -m grader course ...``).

    validate PATH...            check courses; notebooks run in sandboxes (--runner host)
    import PATH...              load courses into the grader and the CMS catalogue
    export-catalogue ROOT       the catalogue JSON the CMS imports

The grader CLI wires these with ``add_course_commands(subparsers)`` and dispatches to
``run_course_command(args)``; ``python -m grader.courses.cli ...`` works on its own too.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path

from grader.courses.validate import (
    CourseError,
    catalogue,
    discover_courses,
    load_courses,
    validate_course,
)


def add_course_commands(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``course`` with its sub-commands to a parent CLI's subparsers."""
    course = subparsers.add_parser("course", help="check and export courses (courses/<slug>/)")
    _add_actions(course)
    return course


def _add_actions(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="course_command", required=True)
    validate = actions.add_parser(
        "validate",
        help="check a course: manifest, nbgrader metadata, solutions pass, student version fails",
    )
    validate.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="course folders (courses/<slug>) or a folder of courses (courses/)",
    )
    validate.add_argument(
        "--no-execute",
        action="store_true",
        help="only static checks; do not run any notebook",
    )
    validate.add_argument(
        "--skip-lessons", action="store_true", help="do not run the lesson notebooks"
    )
    validate.add_argument(
        "--jobs", type=int, default=2, help="notebooks run at once (default 2)"
    )
    validate.add_argument(
        "--timeout", type=int, default=60, help="seconds one cell may run (default 60)"
    )
    validate.add_argument(
        "--runner",
        choices=["sandbox", "host"],
        default="sandbox",
        help="where notebooks run: 'sandbox' (default; a fresh container of the learner image "
        "per notebook, no network, as grading runs them; needs Docker) or 'host' (this "
        "machine's Python; for machines without Docker, trusted notebooks only)",
    )
    validate.add_argument(
        "--config",
        help="grader config file for the sandbox settings (c.DockerSandbox.image, "
        "mem_limit, ...; default ./grader_config.py if present)",
    )
    _add_import(actions)
    export = actions.add_parser(
        "export-catalogue", help="print the course catalogue (for the CMS) as JSON"
    )
    export.add_argument("root", type=Path, help="the folder holding the courses (courses/)")
    export.add_argument("--json", action="store_true", help="JSON output (the only format)")


def _add_import(actions: argparse._SubParsersAction) -> None:
    imp = actions.add_parser(
        "import",
        help="load courses into the grader (create, release what is new) and the CMS catalogue",
        description="Load courses into the grader (create the course, release every "
        "assignment not released yet; the grader checks each in its sandbox) and push their "
        "catalogue entries to the CMS. Idempotent: run it again after adding an assignment. "
        "Exit code 0: done; 1: bad input or a grader failure; 3: grader done, CMS failed.",
    )
    imp.add_argument(
        "paths", nargs="+", type=Path,
        help="course folders (courses/<slug>) or a folder of courses (courses/)",
    )
    grader = imp.add_argument_group(
        "grader", "either --grader-url and --token, or --hub, --admin-token and --instructor"
    )
    grader.add_argument(
        "--grader-url", help="the grader's API, e.g. http://127.0.0.1:8000/services/grader/api "
        "(env GRADER_API_URL)",
    )
    grader.add_argument(
        "--token", help="a hub token of an admin or instructor (env GRADER_API_TOKEN)"
    )
    grader.add_argument(
        "--hub", help="the hub's URL, to find the grader and make a token for --instructor "
        "(env STUDIO_HUB_URL)",
    )
    grader.add_argument(
        "--admin-token", help="the hub's admin API token (env STUDIO_ADMIN_TOKEN)"
    )
    grader.add_argument(
        "--instructor", help="with --hub: the hub user who releases (without it the admin "
        "token itself releases, as the grader's operator service); with either: made the "
        "course's instructor on the CMS",
    )
    grader.add_argument("--skip-grader", action="store_true", help="only update the CMS")
    cms = imp.add_argument_group("CMS")
    cms.add_argument(
        "--cms-url", help="the Learning Studio site, e.g. http://127.0.0.1:8010 (env LS_CMS_URL)"
    )
    cms.add_argument(
        "--cms-secret", help="the shared secret the site checks signatures with (env "
        "LS_GRADE_EVENT_SECRET, the same name the site uses)",
    )
    cms.add_argument("--skip-cms", action="store_true", help="only load the grader")


def _course_folders(paths: list[Path]) -> list[Path]:
    folders: list[Path] = []
    for path in paths:
        if (path / "course.yml").is_file():
            folders.append(path)
        elif discover_courses(path):
            folders.extend(discover_courses(path))
        else:
            # Let validation report the missing manifest with its usual message.
            folders.append(path)
    return folders


def _validate(args: argparse.Namespace) -> int:
    folders = _course_folders(args.paths)
    with ExitStack() as stack:
        runner = None
        if args.runner == "sandbox" and not args.no_execute:
            from grader.cli import load_config
            from grader.courses.sandbox_runner import SandboxNotebookRunner, SandboxUnavailableError

            try:
                runner = stack.enter_context(
                    SandboxNotebookRunner(
                        warm=args.jobs, cell_timeout=args.timeout, config=load_config(args)
                    )
                )
            except SandboxUnavailableError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
        failed = 0
        for folder in folders:
            report = validate_course(
                folder,
                runner=runner,
                cell_timeout=args.timeout,
                execute=not args.no_execute,
                execute_lessons=not args.skip_lessons,
                jobs=args.jobs,
            )
            print(report.summary())
            failed += not report.ok
    return 1 if failed else 0


def _import(args: argparse.Namespace) -> int:
    import os

    from grader.courses.importer import ImportOptions, run_import

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def out(msg: str) -> None:
        print(msg, flush=True)

    env = os.environ.get
    opts = ImportOptions(
        grader_url=args.grader_url or env("GRADER_API_URL", ""),
        token=args.token or env("GRADER_API_TOKEN", ""),
        hub_url=args.hub or env("STUDIO_HUB_URL", ""),
        admin_token=args.admin_token or env("STUDIO_ADMIN_TOKEN", ""),
        instructor=args.instructor or "",
        skip_grader=args.skip_grader,
        cms_url=args.cms_url or env("LS_CMS_URL", ""),
        cms_secret=args.cms_secret or env("LS_GRADE_EVENT_SECRET", ""),
        skip_cms=args.skip_cms,
    )
    try:
        courses = load_courses(_course_folders(args.paths))
        return run_import(courses, opts, say, out)
    except CourseError as e:
        print(f"error: {e}", file=sys.stderr)
        print("nothing was imported.", file=sys.stderr)
        return 1


def run_course_command(args: argparse.Namespace) -> int:
    """Run the parsed ``course`` command; returns the process exit code."""
    if args.course_command == "validate":
        return _validate(args)
    if args.course_command == "import":
        return _import(args)
    if args.course_command == "export-catalogue":
        try:
            data = catalogue(args.root)
        except CourseError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        json.dump(data, sys.stdout, indent=2)
        print()
        return 0
    raise ValueError(f"unknown course command {args.course_command!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.courses.cli", description=__doc__)
    _add_actions(parser)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_course_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
