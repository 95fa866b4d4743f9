"""``grader course ...``: courses on disk (``courses/<slug>/``), checked and loaded.

    grader course validate PATH...        check courses; notebooks run in sandboxes
    grader course import PATH...          load courses into the grader and the site's catalogue
    grader course export-catalogue ROOT   the catalogue JSON the site imports

PATH is a course folder (``courses/<slug>``, holding course.yml) or a folder of courses.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from traitlets import Bool, Enum, Integer, Unicode

from grader.cli.base import CommandFailed, GraderCommand
from grader.courses.manifest import CourseError, catalogue, discover_courses, load_courses
from studio_contracts.signing import SECRET_ENV


def course_folders(paths: list[str]) -> list[Path]:
    """Course folders named, or found one level under the folders named."""
    folders: list[Path] = []
    for path in map(Path, paths):
        if (path / "course.yml").is_file():
            folders.append(path)
        elif discover_courses(path):
            folders.extend(discover_courses(path))
        else:
            # validation reports the missing manifest with its usual message
            folders.append(path)
    return folders


class ValidateCommand(GraderCommand):
    name = "course validate"
    description = """Check courses before they are released: the manifest, nbgrader's cell
    metadata, that no solution or hidden test reaches the student version, that every
    solution passes its tests and the unanswered student version fails them (the grader's
    own release check), and that every lesson runs. Exit 1: problems (each with what to
    do); 2: notebooks cannot run (Docker or the learner image missing)."""

    execute = Bool(True, help="Run the notebooks (off: static checks only).").tag(config=True)
    lessons = Bool(True, help="Run the lesson notebooks too.").tag(config=True)
    jobs = Integer(2, help="Notebooks run at once.").tag(config=True)
    timeout = Integer(60, help="Seconds one cell may run.").tag(config=True)
    runner = Enum(["sandbox", "host"], "sandbox", help="""Where notebooks run: 'sandbox' (a
        fresh container of the learner image per notebook, no network, as grading runs
        them; needs Docker and root) or 'host' (this machine's Python; only for trusted
        notebooks on a machine without Docker).""").tag(config=True)

    aliases = {**GraderCommand.aliases, "jobs": "ValidateCommand.jobs",
               "timeout": "ValidateCommand.timeout", "runner": "ValidateCommand.runner"}
    flags = {
        **GraderCommand.flags,
        "no-execute": ({"ValidateCommand": {"execute": False}},
                       "only static checks; do not run any notebook"),
        "skip-lessons": ({"ValidateCommand": {"lessons": False}},
                         "do not run the lesson notebooks"),
    }

    def run(self) -> int:
        from grader.courses.validate import validate_course

        if not self.extra_args:
            raise CommandFailed("usage: grader course validate PATH... (course folders)", 2)
        folders = course_folders(self.extra_args)
        with ExitStack() as stack:
            runner = None
            if self.runner == "sandbox" and self.execute:
                # the Docker client and the sandbox engine: only when notebooks run there
                from grader.engine.runner import SandboxNotebookRunner
                from grader.engine.sandbox import SandboxUnavailable

                try:
                    runner = stack.enter_context(SandboxNotebookRunner(
                        warm=self.jobs, cell_timeout=self.timeout, config=self.config))
                except SandboxUnavailable as e:
                    raise CommandFailed(str(e), 2) from None
            failed = 0
            for folder in folders:
                report = validate_course(
                    folder, runner=runner, cell_timeout=self.timeout, execute=self.execute,
                    execute_lessons=self.lessons, jobs=self.jobs)
                print(report.summary())
                failed += not report.ok
        return 1 if failed else 0


class ImportCommand(GraderCommand):
    name = "course import"
    description = """Load courses into the grader (create the course, release every
    assignment not released yet; the grader checks each in its sandbox, and stores the
    lessons) and push their catalogue entries to the site. Idempotent: run it again after
    adding an assignment. The grader is given either by --grader-url and --token, or by
    --hub and --admin-token (and --instructor). Exit 0: done; 1: bad input or a grader
    failure; 3: the grader half is done, the site's failed (the output ends with the
    command that retries only that half)."""

    grader_url = Unicode(help="The grader's API, e.g. http://127.0.0.1:8000/services/grader/api "
                         "(env GRADER_API_URL).").tag(config=True)
    token = Unicode(help="A hub token of an admin or instructor (env GRADER_API_TOKEN).").tag(
        config=True)
    hub = Unicode(help="The hub's URL, to find the grader and make a token for --instructor "
                  "(env STUDIO_HUB_URL).").tag(config=True)
    admin_token = Unicode(help="The hub's admin API token (env STUDIO_ADMIN_TOKEN).").tag(
        config=True)
    instructor = Unicode(help="With --hub: the hub user who releases (without it the admin "
                         "token itself releases, as the grader's operator service); either "
                         "way, made the course's instructor on the site.").tag(config=True)
    skip_grader = Bool(False, help="Only update the site's catalogue.").tag(config=True)
    cms_url = Unicode(help="The Learning Studio site, e.g. http://127.0.0.1:8010 (env "
                      "STUDIO_SITE_URL).").tag(config=True)
    cms_secret = Unicode(help=f"The secret requests to the site are signed with (env "
                         f"{SECRET_ENV}, the same name the site uses).").tag(config=True)
    skip_cms = Bool(False, help="Only load the grader.").tag(config=True)

    aliases = {
        **GraderCommand.aliases,
        "grader-url": "ImportCommand.grader_url", "token": "ImportCommand.token",
        "hub": "ImportCommand.hub", "admin-token": "ImportCommand.admin_token",
        "instructor": "ImportCommand.instructor", "cms-url": "ImportCommand.cms_url",
        "cms-secret": "ImportCommand.cms_secret",
    }
    flags = {
        **GraderCommand.flags,
        "skip-grader": ({"ImportCommand": {"skip_grader": True}}, "only update the site"),
        "skip-cms": ({"ImportCommand": {"skip_cms": True}}, "only load the grader"),
    }

    def run(self) -> int:
        from grader.courses.importer import ImportOptions, run_import

        if not self.extra_args:
            raise CommandFailed("usage: grader course import PATH... (course folders)", 2)
        env = os.environ.get
        opts = ImportOptions(
            grader_url=self.grader_url or env("GRADER_API_URL", ""),
            token=self.token or env("GRADER_API_TOKEN", ""),
            hub_url=self.hub or env("STUDIO_HUB_URL", ""),
            admin_token=self.admin_token or env("STUDIO_ADMIN_TOKEN", ""),
            instructor=self.instructor,
            skip_grader=self.skip_grader,
            cms_url=self.cms_url or env("STUDIO_SITE_URL", ""),
            cms_secret=self.cms_secret or env(SECRET_ENV, ""),
            skip_cms=self.skip_cms,
        )
        try:
            courses = load_courses(course_folders(self.extra_args))
            return run_import(courses, opts, say=_to_stderr, out=_to_stdout)
        except CourseError as e:
            raise CommandFailed(f"{e}\nnothing was imported.") from None


class ExportCatalogueCommand(GraderCommand):
    name = "course export-catalogue"
    description = "Print the course catalogue (what the site shows) of ROOT's courses as JSON."

    json_output = Bool(True, help="JSON output (the only format).").tag(config=True)
    flags = {**GraderCommand.flags,
             "json": ({"ExportCatalogueCommand": {"json_output": True}}, "JSON output")}

    def run(self) -> int:
        (root,) = self.positional("root")
        try:
            data = catalogue(Path(root))
        except CourseError as e:
            raise CommandFailed(str(e)) from None
        json.dump(data, sys.stdout, indent=2)
        print()
        return 0


class CourseCommand(GraderCommand):
    name = "course"
    description = __doc__
    subcommands = {
        "validate": (ValidateCommand, "check courses: manifest, nbgrader metadata, solutions "
                     "pass, student versions fail, lessons run"),
        "import": (ImportCommand, "load courses into the grader and the site's catalogue"),
        "export-catalogue": (ExportCatalogueCommand, "the catalogue JSON the site imports"),
    }


def _to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _to_stdout(msg: str) -> None:
    print(msg, flush=True)
