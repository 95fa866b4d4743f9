"""What every ``grader`` subcommand shares: the config file, the database and blob
settings, positional arguments, and clean failures with an exit code."""

from __future__ import annotations

import copy
import logging
import sys
from pathlib import Path

from traitlets import Unicode
from traitlets.config import Application, catch_config_error

from grader.service.config import GraderSettings
from grader.service.errors import GraderError


def progress_bar(done: int, total: int, extra: str = "", width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{extra}"


def read_folder(folder: Path) -> dict[str, bytes]:
    """Files under folder by relative POSIX path, skipping checkpoints and hidden files."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") for p in rel.parts):
            files[rel.as_posix()] = path.read_bytes()
    return files


class CommandFailed(Exception):
    """A subcommand's clean failure: print the message, exit with the code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class GraderCommand(Application):
    """What every subcommand shares: the config file and the database/blob settings."""

    config_file = Unicode(
        "grader_config.py",
        help="""The traitlets config file (c.GraderSettings..., c.SandboxPool...,
        c.DockerSandbox...). Read when it exists; naming one that does not is an error.""",
    ).tag(config=True)

    aliases = {
        "config": "GraderCommand.config_file",
        "db": "GraderSettings.database_url",
        "blobs": "GraderSettings.blob_dir",
        "log-level": "Application.log_level",
    }
    flags = {
        "debug": ({"Application": {"log_level": logging.DEBUG}}, "log everything to stderr"),
    }

    @property
    def classes(self):
        # The sandbox's settings appear in --help-all without importing docker up front.
        from grader.engine.sandbox import DockerSandbox, SandboxPool

        return [type(self), GraderCommand, GraderSettings, SandboxPool, DockerSandbox]

    @catch_config_error
    def initialize(self, argv=None) -> None:
        super().initialize(argv)
        if self.subapp is not None:
            return
        explicit = "config_file" in self.config.get("GraderCommand", {}) or any(
            a.startswith("--config") for a in (argv or sys.argv[1:]))
        path = Path(self.config_file)
        if path.is_file():
            cli_config = copy.deepcopy(self.config)
            self.load_config_file(path.name, path=[str(path.parent.resolve())])
            self.update_config(cli_config)  # the command line wins over the file
        elif explicit:
            raise CommandFailed(f"config file {path} does not exist")

    def settings(self) -> GraderSettings:
        return GraderSettings(config=self.config)

    def gradebook(self):
        from grader.service.gradebook import open_gradebook

        return open_gradebook(self.settings())

    def positional(self, *names: str) -> list[str]:
        """Exactly these positional arguments, or a usage error (exit 2)."""
        args = list(self.extra_args)
        if len(args) != len(names):
            raise CommandFailed(
                f"usage: grader {self.name} {' '.join(n.upper() for n in names)} "
                f"(got {len(args)} argument(s); grader {self.name} --help says more)", 2)
        return args

    def start(self) -> None:
        if self.subapp is not None:
            return self.subapp.start()
        try:
            code = self.run() or 0
        except CommandFailed as e:
            print(f"error: {e}", file=sys.stderr)
            code = e.code
        except GraderError as e:
            print(f"error ({e.code}): {e.message}", file=sys.stderr)
            code = 1
        if code:
            self.exit(code)

    def run(self) -> int:
        self.print_subcommands() if self.subcommands else self.print_help()
        return 2
