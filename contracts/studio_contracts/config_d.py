"""The operator's config.d folder: Python files each part runs after its own defaults.

One folder (``STUDIO_CONFIG_D``; in the stack ``data/config.d`` of the checkout, mounted
read-only at ``/etc/learning-studio/config.d``) with a subfolder per part, as Zero to
JupyterHub's ``jupyterhub_config.d``:

    config.d/hub/*.py      JupyterHub config: ``c`` is the hub's traitlets config
    config.d/grader/*.py   grader config: ``c`` is the grader's traitlets config
    config.d/site/*.py     Django settings: the names a file sets override the site's

Files run in sorted order (``10-spawner.py`` before ``20-services.py``); names starting
with ``.`` or ``_`` are skipped. A file that does not run stops that part, with a message
naming the file and the line. Standard library only: the hub, the grader and the site all
use this module.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

ENV = "STUDIO_CONFIG_D"
PARTS = ("hub", "grader", "site")


class ConfigFileError(Exception):
    """A config.d file does not compile or fails while it runs."""

    def __init__(self, path: Path, line: int | None, what: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(
            f"config file {where}: {what}. Fix or remove the file (the folder is "
            f"{path.parent}) and start again.")
        self.path = path
        self.line = line


def part_folder(part: str, root: str | os.PathLike | None = None) -> Path | None:
    """The folder of ``part`` under ``root`` (default: the STUDIO_CONFIG_D environment
    variable), or None when no root is set."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    root = os.environ.get(ENV, "") if root is None else root
    return Path(root) / part if str(root) else None


def config_files(folder: str | os.PathLike | None) -> list[Path]:
    """The ``*.py`` files of ``folder`` in the order they run (none if it does not exist)."""
    if folder is None:
        return []
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise ConfigFileError(folder, None, "is a file, but config.d parts are folders "
                                  "of *.py files")
        if not folder.is_dir():
            return []
        names = sorted(os.listdir(folder))
    except PermissionError as e:
        # the site runs as its own user: the folder must be readable by others (0755)
        raise ConfigFileError(folder, None, f"cannot be read ({e.strerror}): make the "
                              "folder and its files readable by everyone (chmod -R a+rX)") from None
    return [folder / n for n in names
            if n.endswith(".py") and not n.startswith((".", "_")) and (folder / n).is_file()]


def run_config_file(path: Path, namespace: dict[str, Any]) -> None:
    """Run one file in ``namespace`` (its globals: what it sets stays there).

    Raises ConfigFileError naming the file and line for a syntax error or an exception."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigFileError(path, None, f"cannot be read ({e})") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise ConfigFileError(path, e.lineno, f"syntax error: {e.msg}") from None
    before = namespace.get("__file__")
    namespace["__file__"] = str(path)
    try:
        exec(code, namespace)  # noqa: S102 -- the operator's own config, as jupyterhub_config.py
    except Exception as e:
        line = next((f.lineno for f in reversed(traceback.extract_tb(e.__traceback__))
                     if f.filename == str(path)), None)
        raise ConfigFileError(path, line, f"{type(e).__name__}: {e}") from None
    finally:
        namespace["__file__"] = before


def run_config_folder(folder: Path | None, namespace: dict[str, Any]) -> list[Path]:
    """Run every file of ``folder`` in order, in one shared ``namespace``; return them."""
    files = config_files(folder)
    for path in files:
        run_config_file(path, namespace)
    return files
