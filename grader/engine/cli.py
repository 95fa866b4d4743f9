"""``python -m grader autograde SOURCE_DIR SUBMISSION_DIR --json``: a fixed contract.

Prints one JSON object (``GradeResult.to_json()``). The service's ``grader/__main__.py``
wires this in with ``add_autograde_command`` and ``run_autograde_command``; until then
``python -m grader.engine.cli SOURCE_DIR SUBMISSION_DIR --json`` does the same.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from traitlets.config import Config

HELP = ("Grade the notebooks in SUBMISSION_DIR against the source notebooks of the same "
        "names in SOURCE_DIR, in a sandbox container, as nbgrader autograde scores them.")


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source_dir", metavar="SOURCE_DIR", type=Path,
                        help="folder of the assignment's nbgrader source notebooks and files")
    parser.add_argument("submission_dir", metavar="SUBMISSION_DIR", type=Path,
                        help="folder of the submitted notebooks (NAME.ipynb) and files")
    parser.add_argument("--json", action="store_true",
                        help="print the grades as one JSON object (the contract)")
    parser.add_argument("--feedback-dir", type=Path, default=None,
                        help="also write NAME.html feedback files here")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per cell (nbgrader's Execute.timeout, default 30)")
    parser.add_argument("--debug", action="store_true", help="log to stderr")


def add_autograde_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``autograde`` subcommand to the service's ``python -m grader`` parser."""
    parser = subparsers.add_parser("autograde", help=HELP, description=HELP)
    _configure(parser)
    parser.set_defaults(func=run_autograde_command)
    return parser


def run_autograde_command(args: argparse.Namespace) -> int:
    from grader.engine.autograde import autograde
    from grader.engine.release import ReleaseError, build_release
    from grader.engine.sandbox import SandboxError

    logging.basicConfig(level=logging.INFO if args.debug else logging.WARNING,
                        stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for folder, what in ((args.source_dir, "SOURCE_DIR"), (args.submission_dir, "SUBMISSION_DIR")):
        if not folder.is_dir():
            print(f"error: {what} {folder} is not a folder", file=sys.stderr)
            return 2
    config = Config()
    if args.timeout is not None:
        config.Execute.timeout = args.timeout
    try:
        build = build_release(args.source_dir)
        result = autograde(build, args.submission_dir, config=config,
                           context={"source": str(args.source_dir),
                                    "submission": str(args.submission_dir)})
    except ReleaseError as e:
        print(f"error: the source notebooks cannot be graded against: {e}", file=sys.stderr)
        return 2
    except SandboxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.feedback_dir:
        args.feedback_dir.mkdir(parents=True, exist_ok=True)
        for name, nb in result.notebooks.items():
            if nb.feedback_html:
                (args.feedback_dir / f"{name}.html").write_text(nb.feedback_html)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(f"score {result.score:g} / {result.max_score:g}"
              + (" (needs manual grading)" if result.needs_manual_grade else ""))
        for message in result.messages:
            print(f"  {message}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.engine.cli", description=HELP)
    _configure(parser)
    return run_autograde_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
