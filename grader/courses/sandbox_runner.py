"""Running a course's notebooks in sandbox containers, for ``course validate``.

``SandboxNotebookRunner`` is the NotebookRunner (``f(nb, workdir) -> executed nb``, see
grader/course.py) that ``python -m grader course validate`` uses by default: every notebook
runs in a fresh sandbox of the learner image (network none, non-root, read-only root,
memory/CPU/pids limits: grader/sandbox.py), with nbgrader's ``Execute`` preprocessor talking
to the kernel from this process, exactly as autograding does (grader/autograde.py). So
"every solution passes its tests" is checked where learners' work is graded, with the
packages of the learner image, not whatever this machine has installed.

The sandboxes come from a ``SandboxPool`` that keeps ``warm`` of them started ahead of
need, so a notebook rarely waits for a container. Each sandbox runs one notebook and is
removed: nothing carries over from a solution run to the student-version run.

The validator calls the runner from several threads at once; the pool lives on one event
loop in a thread of its own, and each call hands its notebook to that loop.
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from traitlets.config import Config

from grader.courses.validate import CourseError

#: Where the notebook runs inside the sandbox (a tmpfs owned by the learner user).
WORKDIR = "/home/learner/course"


class SandboxUnavailableError(CourseError):
    """Docker or the learner image is missing, so notebooks cannot run in a sandbox."""


def docker_problem(config: Config | None = None) -> str | None:
    """Why sandboxes cannot start here (no Docker engine, no learner image), or None."""
    import docker.errors

    from grader.engine.sandbox import LEARNER_UID, DockerSandbox, SandboxError

    if os.geteuid() != 0:
        # Sandbox hands each container's socket folder to the learner user and takes it
        # back once the kernels are up (grader/sandbox.py): only root may do that.
        return (f"sandboxes must be started as root, like the grader service (they hand "
                f"each sandbox's socket folder to the learner user, uid {LEARNER_UID}, and "
                "take it back): run the command as root")
    runner = DockerSandbox(config=config or Config())
    try:
        client = runner.docker
        client.ping()
    except (SandboxError, docker.errors.DockerException, OSError) as e:
        return (f"the Docker engine is not reachable ({e.__cause__ or e}); start it (and "
                "build the learner image: ./studio build)")
    try:
        client.images.get(runner.image)
    except docker.errors.ImageNotFound:
        return (f"the learner image {runner.image!r} is not built (./studio build, or set "
                "c.DockerSandbox.image in grader_config.py)")
    except docker.errors.DockerException as e:
        return f"the Docker engine did not answer about image {runner.image!r} ({e})"
    finally:
        runner.zmq_context.destroy(linger=0)
    return None


def _files_under(folder: Path) -> dict[str, bytes]:
    """Every file of the scratch folder the validator prepared, by relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


class SandboxNotebookRunner:
    """A NotebookRunner that runs each notebook in its own fresh sandbox container.

    Use as a context manager; ``close()`` removes every container it started. Raises
    SandboxUnavailableError at construction when Docker or the learner image is missing.
    """

    def __init__(
        self,
        *,
        warm: int = 2,
        cell_timeout: int = 60,
        config: Config | None = None,
    ) -> None:
        from grader.engine.sandbox import SandboxPool

        config = copy.deepcopy(config) if config is not None else Config()
        problem = docker_problem(config)
        if problem:
            raise SandboxUnavailableError(
                f"cannot run the notebooks in a sandbox: {problem}. Or pass --runner host to "
                "run them on this machine (only for notebooks you trust; learners' code never "
                "runs that way)."
            )
        self.cell_timeout = cell_timeout
        # nbgrader's Execute reads its timeout from config, as in autograding.
        config.Execute.timeout = cell_timeout
        self.config = config
        self.notebooks_run = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="course-sandboxes", daemon=True
        )
        self._thread.start()
        # One kernel per sandbox: a sandbox serves one notebook. remove_stale=False: a
        # validation next to a running grader must not remove the grader's sandboxes.
        self.pool = SandboxPool(
            warm=max(0, warm), kernels_per_sandbox=1, remove_stale=False, config=config
        )
        #: How validation reports say where the notebooks ran.
        self.where = f"in sandboxes ({self.pool.runner.image}, no network)"
        self._call(self.pool.start())

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __call__(self, nb: NotebookNode, workdir: Path) -> NotebookNode:
        return self._call(self._run(nb, Path(workdir)))

    async def _run(self, nb: NotebookNode, workdir: Path) -> NotebookNode:
        from grader.engine.autograde import SandboxedExecute, _setup_code
        from grader.engine.sandbox import SandboxKernelManager

        kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
        if kernel not in ("python3", "python"):
            raise CourseError(
                f"the notebook asks for kernel {kernel!r}; sandboxes (and grading) run "
                "python3 only: set the notebook's kernel to Python 3"
            )

        files = await asyncio.to_thread(_files_under, workdir)
        sandbox = await self.pool.acquire(1)
        flooded: list[str] = []
        task: asyncio.Future | None = None

        def on_flood() -> None:
            if not flooded:
                flooded.append(f"the notebook printed more than {self.pool.output_limit} bytes")
                sandbox.signal("SIGKILL")
                if task is not None:
                    task.cancel()

        try:
            await asyncio.to_thread(sandbox.put_files, files)
            executed = copy.deepcopy(nb)
            executor = SandboxedExecute(
                config=self.config, output_limit=self.pool.output_limit, on_flood=on_flood
            )
            code_cells = sum(1 for c in executed.cells if c.cell_type == "code")
            # Each cell has its own timeout; this bounds the whole notebook on top of it.
            wall = self.cell_timeout * (code_cells + 1) + 30
            task = asyncio.ensure_future(executor.run(
                executed, {"metadata": {"path": WORKDIR}}, SandboxKernelManager(sandbox, 0),
                _setup_code(WORKDIR, copy_files=True), [0],
            ))
            try:
                await asyncio.wait_for(task, wall)
            except asyncio.CancelledError:
                if flooded:
                    raise CourseError(flooded[0]) from None
                raise
            except TimeoutError:
                raise CourseError(f"the notebook ran longer than {wall} s in the sandbox") from None
            self.notebooks_run += 1
            return executed
        finally:
            await self.pool.release(sandbox)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self.pool.close())  # also ends the pool's ZeroMQ context
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()

    def __enter__(self) -> SandboxNotebookRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
