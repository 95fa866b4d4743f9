"""``grader`` (also ``python -m grader``): the instructor's and operator's command line.

One traitlets application with subcommands, in the manner of ``jupyterhub`` and
``nbgrader``: every subcommand reads the same config file (``--config``, default
``./grader_config.py``), takes ``--Class.trait=value`` for any setting, and ``--help-all``
lists them all.

    grader serve                          run the service (JupyterHub does this)
    grader db upgrade | db current        apply / show database migrations
    grader release COURSE ASSIGNMENT DIR  release (or update) one assignment from its folder
    grader grade                          grade queued jobs now, with a progress bar
    grader export COURSE                  grades as CSV
    grader status                         the grading queue, with a progress bar
    grader blobs usage | blobs gc         storage per course; remove unreferenced files
    grader autograde SOURCE SUB --json    grade one folder in a sandbox (no database; a
                                          fixed contract, see grader.engine.results)
    grader course validate PATH...        check courses (notebooks run in sandboxes)
    grader course import PATH...          load courses into the running grader and the site
    grader course export-catalogue ROOT   the catalogue JSON the site imports

``serve``, ``db``, ``release``, ``grade``, ``export`` and ``status`` work on the grader's
database and blob store directly: run them where the service runs, with its settings
(``--db``/GRADER_DATABASE_URL, ``--blobs``/GRADER_BLOB_DIR). ``course import`` goes through
the running service's API, as an instructor would.

Heavy modules (the Docker client, nbgrader, the service) are imported inside the
subcommand that needs them, so ``grader --help`` and ``grader course import`` start fast.
"""

from __future__ import annotations

import logging
import sys

from grader.cli.base import CommandFailed, GraderCommand
from grader.service.config import GraderSettings


class GraderCLI(GraderCommand):
    name = "grader"
    description = __doc__
    subcommands = {
        "serve": ("grader.service.app.GraderApp", "run the service (JupyterHub does this)"),
        "db": ("grader.cli.service.DbCommand", "the database's migrations (upgrade, current)"),
        "release": ("grader.cli.service.ReleaseCommand",
                    "release (or update) one assignment from its folder"),
        "grade": ("grader.cli.service.GradeCommand", "grade the queued submissions now"),
        "status": ("grader.cli.service.StatusCommand", "the grading queue"),
        "export": ("grader.cli.service.ExportCommand", "a course's grades as CSV"),
        "blobs": ("grader.cli.service.BlobsCommand",
                  "the blob store: usage per course, garbage collection"),
        "autograde": ("grader.cli.service.AutogradeCommand",
                      "grade one folder in a sandbox (--json: the contract)"),
        "course": ("grader.cli.course.CourseCommand",
                   "validate and import courses (courses/<slug>/), export their catalogue"),
    }

    @property
    def classes(self):
        return [GraderCLI, GraderCommand, GraderSettings]

    def run(self) -> int:
        self.print_subcommands()
        print("grader: say which subcommand (grader --help)", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``grader`` and ``python -m grader``; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        GraderCLI.launch_instance(argv)
    except CommandFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception as e:
        from grader.service.gradebook import DatabaseNotReady

        if isinstance(e, DatabaseNotReady):
            print(f"error: {e}", file=sys.stderr)
            return 1
        raise
    return 0

