"""The kernel launcher that runs inside a sandbox container: one process, N kernels.

The sandbox (grader.engine.sandbox) copies this file's source into the container's inbox as
``launch.py`` and runs ``python launch.py N STATUS_SOCKET`` with the learner image's Python.
It imports ipykernel once, then forks one kernel per connection file ``kernel-<i>.json``
beside it, which saves the import time of every kernel after the first. It tells the grader
at once, over the Unix socket STATUS_SOCKET, when a kernel exits (a crash, ``os._exit``,
out of memory) as lines ``"<index> <wait status>"``.

Each kernel installs the grader's guard (``guard.py`` beside this file, the source of
``grader.engine.kernel_guard``) before it starts, so before any learner code: the grader
then arms it and gets test verdicts the kernel's replies cannot forge.

Only the standard library and ipykernel may be imported here: the file runs where the
grader package is not installed.
"""

from __future__ import annotations

import os
import signal
import socket
import sys


def preload_kernel_modules() -> None:
    """Import what a kernel imports while it initialises (measured), before the fork, so it
    costs each kernel nothing; the kernel's modules end up the same either way.

    A grading kernel has no debugger client: keeping ipykernel from importing debugpy saves
    a third of the sandbox's start-up CPU. Learner code can still import debugpy."""
    sys.modules["debugpy"] = None  # type: ignore[assignment]
    try:
        import ctypes  # noqa: F401 - the guard uses it before it refuses it to learner code
        import faulthandler  # noqa: F401
        import pdb  # noqa: F401
        import sqlite3  # noqa: F401

        import IPython.extensions.storemagic  # noqa: F401
        import tornado.platform.asyncio  # noqa: F401
        from ipykernel import debugger, ipkernel, kernelapp, zmqshell  # noqa: F401
    finally:
        del sys.modules["debugpy"]


def start_kernel(connection_file: str, guard=None) -> None:
    """Become one kernel (in a forked child); never returns."""
    from ipykernel import kernelapp

    if guard is not None:
        guard.install()

    sys.argv = ["ipykernel_launcher", "-f", connection_file,
                "--HistoryManager.hist_file=:memory:"]
    kernelapp.launch_new_instance()
    os._exit(0)


def main(argv: list[str]) -> None:
    """argv: [this file, number of kernels, status socket path]."""
    here = os.path.dirname(os.path.abspath(argv[0]))
    kernels, status_path = int(argv[1]), argv[2]
    # Idle kernels ignore SIGINT (ipykernel does), so a SIGINT sent to the whole process
    # group interrupts only the busy one; the launcher itself ignores it too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    guard = None
    if os.path.exists(os.path.join(here, "guard.py")):
        sys.path.insert(0, here)
        import guard  # type: ignore[import-not-found]

        del sys.modules["guard"]
    # the inbox (this file's folder) is not a place to import learner-visible code from
    sys.path[:] = [p for p in sys.path if p not in ("", here)]
    preload_kernel_modules()
    status = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    status.bind(status_path)
    status.listen(1)
    children: dict[int, int] = {}
    for i in range(kernels):
        pid = os.fork()
        if pid == 0:
            status.close()
            start_kernel(os.path.join(here, f"kernel-{i}.json"), guard)
        children[pid] = i
    conn, _ = status.accept()
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid in children:
            conn.sendall(f"{children.pop(pid)} {code}\n".encode())


if __name__ == "__main__":
    main(sys.argv)
