"""Running one notebook to the end, for checks that are not a learner's grade.

A ``NotebookRunner`` is ``f(nb, workdir) -> executed nb``: it executes ``nb`` with
``workdir`` (a throw-away copy of the notebook's folder, data files included) as its
working directory. Cells that raise do not stop the run: nbgrader scores each test cell by
its own outputs. ``grader course validate`` uses them; the release check
(grader.engine.check) judges what they return.

- ``SandboxNotebookRunner`` (the default): every notebook in a fresh sandbox of the learner
  image (grader.engine.sandbox), with nbgrader's ``Execute`` preprocessor talking to the
  kernel from this process, exactly as autograding does. So "every solution passes its
  tests" is checked where learners' work is graded, with the learner image's packages.
- ``run_on_host`` and ``WarmKernels``: nbgrader's ``Execute`` (nbclient) on this machine,
  one fresh kernel per notebook; only for trusted instructor notebooks on a machine
  without Docker (``--runner host``).
"""

from __future__ import annotations

import asyncio
import copy
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets.config import Config

from grader.engine.autograde import SandboxedExecute, setup_code
from grader.engine.sandbox import (
    DockerSandbox,
    SandboxKernelManager,
    SandboxPool,
    SandboxUnavailable,
)

#: Executes ``nb`` with ``workdir`` as its working directory (a throw-away copy of the
#: assignment folder, data files included) and returns the executed notebook. Cells that
#: raise must not stop the run: nbgrader scores each test cell by its own outputs.
NotebookRunner = Callable[["NotebookNode", Path], "NotebookNode"]


def run_on_host(nb: NotebookNode, workdir: Path, timeout: int = 60) -> NotebookNode:
    """The default NotebookRunner: nbgrader's Execute preprocessor (nbclient) on this host.

    Only for instructor-written notebooks, which are trusted. Learner code goes through the
    grader's Sandbox instead.
    """
    executed = copy.deepcopy(nb)
    # IPC sockets in the scratch folder: no TCP ports on the host, and no ipykernel
    # warning about unencrypted TCP on every run.
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(workdir / ".kernel")}})
    Execute(timeout=timeout, config=config).preprocess(
        executed, {"metadata": {"path": str(workdir)}}
    )
    return executed


class WarmKernels:
    """A NotebookRunner like run_on_host that starts kernels ahead of time.

    Starting a Python kernel costs about 0.6 s; a background thread keeps ``size`` fresh
    kernels ready, each in its own scratch folder, so a notebook starts running at once.
    Every kernel runs exactly one notebook and is then shut down: no state can pass from a
    solution run to a student-version run. Use as a context manager.
    """

    def __init__(self, size: int = 2, timeout: int = 60, kernel_name: str = "python3") -> None:
        self.timeout = timeout
        self.kernel_name = kernel_name
        self._ready: queue.Queue[tuple[Any, Path]] = queue.Queue(maxsize=max(1, size))
        self._stopping = threading.Event()
        self._starter = threading.Thread(target=self._keep_ready, daemon=True)
        self._starter.start()

    def _start_one(self) -> tuple[Any, Path]:
        folder = Path(tempfile.mkdtemp(prefix="course-kernel-"))
        km = AsyncKernelManager(
            kernel_name=self.kernel_name, transport="ipc", ip=str(folder / ".kernel")
        )
        # Same kernel arguments as nbgrader's Execute gives a python kernel.
        run_sync(km.start_kernel)(
            cwd=str(folder), extra_arguments=["--HistoryManager.hist_file=:memory:"]
        )
        return km, folder

    def _keep_ready(self) -> None:
        while not self._stopping.is_set():
            try:
                kernel = self._start_one()
            except Exception as e:  # surfaces when a notebook asks for a kernel
                kernel = (e, Path())
            while not self._stopping.is_set():
                try:
                    self._ready.put(kernel, timeout=0.2)
                    break
                except queue.Full:
                    continue
            else:
                self._discard(kernel)

    @staticmethod
    def _discard(kernel: tuple[Any, Path]) -> None:
        km, folder = kernel
        if not isinstance(km, Exception):
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # already dead: nothing to clean but the folder
                pass
        shutil.rmtree(folder, ignore_errors=True)

    def __call__(self, nb: NotebookNode, workdir: Path) -> NotebookNode:
        if nb.metadata.get("kernelspec", {}).get("name", self.kernel_name) != self.kernel_name:
            return run_on_host(nb, workdir, timeout=self.timeout)
        kernel = self._ready.get()
        km, folder = kernel
        if isinstance(km, Exception):
            raise km
        execute = Execute(timeout=self.timeout)
        try:
            shutil.copytree(workdir, folder, dirs_exist_ok=True)
            executed = copy.deepcopy(nb)
            execute.preprocess(executed, {"metadata": {"path": str(folder)}}, km=km)
            return executed
        finally:
            # nbclient leaves a kernel it did not start running, with its client connected.
            if getattr(execute, "kc", None) is not None:
                execute.kc.stop_channels()
            self._discard(kernel)

    def close(self) -> None:
        self._stopping.set()
        self._starter.join(timeout=30)
        while True:
            try:
                self._discard(self._ready.get_nowait())
            except queue.Empty:
                break

    def __enter__(self) -> WarmKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- in a sandbox
#: Where the notebook runs inside the sandbox (a tmpfs owned by the learner user).
WORKDIR = "/home/learner/course"


class NotebookRunFailed(Exception):
    """The notebook could not be run to the end (wrong kernel, output flood, wall clock)."""


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
    SandboxUnavailable at construction when Docker or the learner image is missing.
    """

    def __init__(
        self,
        *,
        warm: int = 2,
        cell_timeout: int = 60,
        config: Config | None = None,
    ) -> None:
        config = copy.deepcopy(config) if config is not None else Config()
        probe = DockerSandbox(config=config)
        try:
            probe.check_available()
        except SandboxUnavailable as e:
            raise SandboxUnavailable(
                f"cannot run the notebooks in a sandbox: {e}. Or pass --runner host to "
                "run them on this machine (only for notebooks you trust; learners' code never "
                "runs that way)."
            ) from None
        finally:
            probe.zmq_context.destroy(linger=0)
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
        kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
        if kernel not in ("python3", "python"):
            raise NotebookRunFailed(
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
                setup_code(WORKDIR, copy_files=True), [0],
            ))
            try:
                await asyncio.wait_for(task, wall)
            except asyncio.CancelledError:
                if flooded:
                    raise NotebookRunFailed(flooded[0]) from None
                raise
            except TimeoutError:
                raise NotebookRunFailed(f"the notebook ran longer than {wall} s in the sandbox") from None
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
