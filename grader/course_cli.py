"""``course`` commands of the grader CLI: validate a course, export the catalogue.

The grader CLI wires these with ``add_course_commands(subparsers)`` and dispatches to
``run_course_command(args)``; until then ``python -m grader.course_cli validate courses/x``
works on its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path

from grader.course import (
    CourseError,
    catalogue,
    discover_courses,
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
    export = actions.add_parser(
        "export-catalogue", help="print the course catalogue (for the CMS) as JSON"
    )
    export.add_argument("root", type=Path, help="the folder holding the courses (courses/)")
    export.add_argument("--json", action="store_true", help="JSON output (the only format)")


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
            from grader.course_sandbox import SandboxNotebookRunner, SandboxUnavailableError

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


def run_course_command(args: argparse.Namespace) -> int:
    """Run the parsed ``course`` command; returns the process exit code."""
    if args.course_command == "validate":
        return _validate(args)
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
    parser = argparse.ArgumentParser(prog="python -m grader.course_cli", description=__doc__)
    _add_actions(parser)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_course_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
