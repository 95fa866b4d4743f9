"""The learner's home folder: how full it is, and a clear answer when it is full.

A home with a quota is a file system of its own (hub/homes.py), so the file system's
size and free space are the learner's limit and what is left of it.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


@dataclass
class HomeUsage:
    """Bytes used and the most the learner may use, from the home's file system."""

    used: int
    limit: int

    @classmethod
    def of(cls, path: str) -> HomeUsage:
        st = os.statvfs(path)
        limit = st.f_blocks * st.f_frsize
        return cls(used=limit - st.f_bfree * st.f_frsize, limit=limit)

    def as_json(self) -> dict:
        return {"used": self.used, "limit": self.limit}


def mib(n: int) -> str:
    return f"{n / 1024**2:.1f} MiB" if n < 1024**3 else f"{n / 1024**3:.2f} GiB"


def home_full_message(usage: HomeUsage, path: str) -> str:
    return (
        f"Your home folder is full: {path or 'this file'} could not be saved. "
        f"You use {mib(usage.used)} of your {mib(usage.limit)}. Delete files you no "
        "longer need (large data files, checkpoints in .ipynb_checkpoints folders, the "
        "trash), then save again. Until then, copy anything important from this "
        "notebook; ask your instructor if you need more room.")


def is_home_full(error: BaseException) -> bool:
    """True when `error` or what caused it is 'no space' or 'quota exceeded'."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        error = error.__cause__ or error.__context__
    return False


class HomeContentsManager(AsyncLargeFileManager):
    """JupyterLab's contents manager, answering 507 with the learner's usage when a
    save or an upload finds the home full. JupyterLab shows the message in its
    'File Save Error' dialog."""

    async def save(self, model, path=""):
        os_path = self._get_os_path(path.strip("/"))
        existed = os.path.exists(os_path)
        try:
            return await super().save(model, path)
        except Exception as e:
            if not is_home_full(e):
                raise
            # An existing file is restored by jupyter-server; a new file or an upload
            # cut short would stay behind partly written, taking the room that is left.
            if not existed or model.get("chunk"):
                with contextlib.suppress(OSError):
                    os.remove(os_path)
            usage = HomeUsage.of(self.root_dir)
            self.log.warning("home full saving %s: %s of %s used", path, usage.used,
                             usage.limit)
            raise web.HTTPError(507, home_full_message(usage, path)) from e

    async def create_checkpoint(self, path=""):
        # JupyterLab makes a checkpoint when it opens a file that has none. In a full home
        # that copy fails; JupyterLab would then refuse to open the file at all ("File
        # Load Error"), but it opens it without a checkpoint on a 403.
        try:
            return await super().create_checkpoint(path)
        except Exception as e:
            if not is_home_full(e):
                raise
            usage = HomeUsage.of(self.root_dir)
            raise web.HTTPError(403, home_full_message(usage, path)) from e
