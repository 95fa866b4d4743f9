"""Autograding a submission: nbgrader's pipeline with the kernel in a sandbox.

The path of one notebook, as ``nbgrader autograde`` takes it:

1. sanitize (trusted, here): ClearOutput, DeduplicateIds, OverwriteKernelspec,
   OverwriteCells (locked and test cells restored from the release master),
   CheckCellMetadata;
2. execute: nbgrader's ``Execute`` preprocessor, here in the grader process, talking to a
   kernel in the sandbox (``grader.engine.sandbox``); same traits, same timeouts, same handling of
   errors and timeouts;
3. score (trusted, here): IgnorePattern, ClearMetadata, LimitOutput, then the logic of
   SaveAutoGrades with ``nbgrader.utils.determine_grade``.

Because scoring reads only the kernel's messages, student code can change its grade only
in the ways it can under nbgrader itself. What nbgrader cannot do and we add: a kernel that
dies (exit, crash, out of memory), floods the grader (more than ``received_limit`` bytes, or
one message over the maximum message size), or outlives the wall clock stops the notebook;
the cells that did not run get an error output, so their tests score 0, and the notebook
carries a message saying why. Output beyond ``output_limit`` is dropped, not failed: the
cells go on running and the cell carries a note.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import json
import logging
import re
import secrets
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
)
from traitlets.config import Config

from grader.engine import redact
from grader.engine.feedback import render_feedback
from grader.engine.kernel_guard import SEAL_OUT, cell_marker, seal_valid
from grader.engine.release import ReleaseBuild, ReleaseNotebook, build_release, other_files
from grader.engine.results import REVIEW_MESSAGE, CellGrade, GradeResult, NotebookGrade
from grader.engine.sandbox import INBOX, Sandbox, SandboxError, SandboxKernelManager, SandboxPool

log = logging.getLogger("grader.engine.autograde")


class NotebookFailed(Exception):
    """nbgrader would fail to autograde this notebook; its cells wait for a human."""


# --- sanitize ------------------------------------------------------------------------------
def _resources(assignment: str, name: str, path: str = "") -> dict[str, Any]:
    return {
        "nbgrader": {"notebook": name, "assignment": assignment, "student": "learner",
                     "db_url": None},
        "metadata": {"path": path, "name": name},
    }


def overwrite_cells(nb: NotebookNode, master: ReleaseNotebook) -> list[str]:
    """nbgrader's OverwriteCells.preprocess_cell, reading the release master, not a DB."""
    changes: list[str] = []
    cell_type_fixer = OverwriteCells()
    released = {
        c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): "".join(c.get("source", ""))
        for c in master.student.get("cells", [])
    }
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", None)
        if grade_id is None:
            continue
        source_cell = master.cells.get(grade_id)
        if source_cell is None:
            del cell.metadata.nbgrader["grade_id"]
            continue
        if cell.cell_type != source_cell.cell_type:
            changes.append(f"{grade_id}: cell type restored to {source_cell.cell_type}")
            cell_type_fixer.update_cell_type(cell, source_cell.cell_type)
        if nbutils.is_locked(cell) != source_cell.locked:
            cell.metadata.nbgrader["locked"] = source_cell.locked
        if nbutils.is_grade(cell):
            if not (source_cell.grade or source_cell.task):
                raise NotebookFailed(
                    f"cell {grade_id} was turned into a graded cell; the release has no "
                    "such graded cell"
                )
            old_points = float(source_cell.points or 0.0)
            if old_points != float(cell.metadata.nbgrader["points"]):
                changes.append(f"{grade_id}: points restored to {old_points:g}")
                cell.metadata.nbgrader["points"] = old_points
        cell.metadata.nbgrader["checksum"] = source_cell.checksum
        if source_cell.locked and nbutils.compute_checksum(cell) != source_cell.checksum:
            if cell.source != released.get(grade_id):  # hidden tests are restored silently
                changes.append(f"{grade_id}: the locked cell was edited; the release's "
                               "version was graded instead")
            cell.source = source_cell.source
            if nbutils.compute_checksum(cell) != source_cell.checksum:
                raise NotebookFailed(
                    f"the metadata of locked cell {grade_id} was changed, so it cannot be "
                    "restored (nbgrader: inconsistent checksums)"
                )
    return changes


def sanitize(nb: NotebookNode, master: ReleaseNotebook, assignment: str,
             config: Config) -> tuple[NotebookNode, list[str]]:
    resources = _resources(assignment, master.name)
    try:
        for pp in (ClearOutput(config=config), DeduplicateIds(config=config)):
            nb, resources = pp(nb, resources)
        if master.kernelspec:
            nb.metadata["kernelspec"] = copy.deepcopy(master.kernelspec)
        changes = overwrite_cells(nb, master)
        nb, resources = CheckCellMetadata(config=config)(nb, resources)
    except NotebookFailed:
        raise
    except Exception as e:  # noqa: BLE001 - nbgrader fails the notebook on these
        raise NotebookFailed(f"its nbgrader cell metadata is invalid ({e})") from e
    return nb, changes


# --- execute -------------------------------------------------------------------------------
class OutputFlood(Exception):
    pass


def message_size(msg: dict) -> int:
    """Roughly the bytes a kernel message holds here: its content's keys, strings and
    containers, and its binary buffers."""
    size = sum(getattr(b, "nbytes", None) or len(b) for b in msg.get("buffers") or ())
    stack: list[Any] = [msg.get("content")]
    while stack:
        value = stack.pop()
        if isinstance(value, str | bytes | bytearray):
            size += len(value)
        elif isinstance(value, dict):
            size += 8 * len(value)
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            size += 8 * len(value)
            stack.extend(value)
        else:
            size += 8
    return size


class SandboxedExecute(Execute):
    """nbgrader's Execute preprocessor, with the kernel in a sandbox and output capped.

    Output beyond ``output_limit`` is dropped (not kept, the cells go on running); only
    more than ``received_limit`` bytes of messages, which would keep this trusted process
    busy, calls ``on_flood`` (the caller stops the sandbox).
    """

    def __init__(self, *, output_limit: int, on_flood: Any,
                 received_limit: int | None = None, key: bytes | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.output_limit = output_limit
        self.received_limit = received_limit if received_limit is not None else 2**62
        self.on_flood = on_flood
        self.output_bytes = 0  # what counts against output_limit
        self.received_bytes = 0  # every message for this notebook's cells
        self.cut_cells: set[int] = set()  # cells some of whose output was dropped
        self.learner_code_ran = False
        # Sealed tests (grader.engine.kernel_guard): the kernel's guard key, the nonce sent
        # with each test cell, and the seals its output carried.
        self.key = key
        self.nonces: dict[int, str] = {}
        self.seals: dict[int, list[tuple[str, str, str]]] = {}

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> Any:
        """Every iopub message counts against the output budget, not only stream and
        display outputs: update_display_data and comm messages (with their binary buffers)
        would otherwise let a notebook make this trusted process hold gigabytes.

        Past the budget the outputs are dropped, as they arrive (and from then on read
        without parsing their content); kept are only what ends the cell (status), what
        scores it (errors, made small) and clear_output.

        Seals are taken out of stream text before anything else (they are the grader's, not
        the learner's output, and are kept whatever the budget), whoever printed them."""
        size = msg.get("wire_bytes") or message_size(msg)
        self.received_bytes += size
        if self.received_bytes > self.received_limit:
            self.on_flood()
            return None
        msg_type = msg.get("msg_type")
        if msg_type == "stream" and self._take_seals(msg, cell_index):
            return None  # nothing but seals
        if msg_type in ("status", "execute_input"):
            return super().process_message(self._unpacked(msg), cell, cell_index)
        self.output_bytes += size
        if self.output_bytes <= self.output_limit:
            return super().process_message(self._unpacked(msg), cell, cell_index)
        if not self.cut_cells and self.kc is not None:
            self.kc.iopub_channel.lazy_content = True
        self.cut_cells.add(cell_index)
        if msg_type == "error":
            # an error decides a test's score: it is kept, whatever the budget, but small
            return super().process_message(_small_error(self._unpacked(msg)), cell,
                                           cell_index)
        if msg_type == "clear_output":
            return super().process_message(self._unpacked(msg), cell, cell_index)
        return None

    def _take_seals(self, msg: dict, cell_index: int) -> bool:
        """Record the seals in a stream message and take them out of its text; True when
        nothing else was in it."""
        content = msg.get("content")
        if isinstance(content, bytes | bytearray | memoryview):
            if SEAL_OUT.encode() not in bytes(content):
                return False
            self._unpacked(msg)
        text = msg.get("content", {}).get("text")
        if not isinstance(text, str) or SEAL_OUT not in text:
            return False
        msg["content"]["text"], found = take_seals(text)
        self.seals.setdefault(cell_index, []).extend(found)
        return not msg["content"]["text"]

    def _unpacked(self, msg: dict) -> dict:
        content = msg.get("content")
        if isinstance(content, bytes | bytearray | memoryview):
            assert self.kc is not None
            msg["content"] = self.kc.session.unpack(content)
        return msg

    def on_cell_executed(self, **kwargs: Any) -> None:
        """nbgrader's (an error reply without its error output gets one), then the note on
        a cell whose output was cut, and no error output larger than a small one."""
        super().on_cell_executed(**kwargs)
        cell, cell_index = kwargs["cell"], kwargs["cell_index"]
        for output in cell.outputs:
            if output.output_type == "error":
                _shrink_error(output)
        if cell_index in self.cut_cells:
            cell.outputs.append(nbformat.v4.new_output(
                "display_data", data={"text/plain": f"[{self.cut_note()}]"}))

    def cut_note(self) -> str:
        return f"output beyond {_mb(self.output_limit)} MB was dropped"

    async def async_start_new_kernel_client(self) -> Any:
        """Use the sandbox's client, connected and subscribed while the sandbox warmed up."""
        assert self.km is not None
        self.kc = self.km.client()
        if not self.kc.channels_running:
            self.kc.start_channels()
            await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))
        self.kc.allow_stdin = False
        return self.kc

    async def run(self, nb: NotebookNode, resources: dict, km: SandboxKernelManager,
                  setup_code: str, progress: list[int]) -> None:
        """nbconvert's ExecutePreprocessor.preprocess, async, plus a silent setup request."""
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        try:
            async with self.async_setup_kernel():
                assert self.kc is not None
                info_msg = await self.async_wait_for_reply(
                    await ensure_async(self.kc.kernel_info()))
                assert info_msg is not None
                self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                # Working directory and files, without touching the learner's namespace or
                # history: silent, store_history=False (execution counts stay nbgrader's).
                msg_id = self.kc.execute(setup_code, silent=True, store_history=False)
                reply = await self.async_wait_for_reply(msg_id)
                if reply is None or reply["content"]["status"] != "ok":
                    raise RuntimeError(f"sandbox setup failed: {reply and reply['content']}")
                for index, cell in enumerate(self.nb.cells):
                    progress[0] = index
                    self.learner_code_ran = True
                    if self.key is None or not is_sealed_test(cell):
                        await self.async_execute_cell(cell, index, store_history=True)
                        continue
                    # The kernel gets the test with a seal marker; the notebook keeps the
                    # cell as released.
                    nonce = secrets.token_hex(12)
                    self.nonces[index] = nonce
                    source = cell.source
                    cell.source = cell_marker(source, nonce, self.key)
                    try:
                        await self.async_execute_cell(cell, index, store_history=True)
                    finally:
                        cell.source = source
                progress[0] = len(self.nb.cells)
            self.set_widgets_metadata()
        finally:
            # nbclient registers an atexit cleanup that it only removes on success
            atexit.unregister(self._cleanup_kernel)
            if self.kc is not None:
                self.kc.stop_channels()


_SEAL_RE = re.compile(r"\n?" + re.escape(SEAL_OUT)
                      + r"([0-9a-f]{1,64}) (pass(?: \S+)?|unsealable) ([0-9a-f]{64})##\n?")


def take_seals(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Stream text without its seal lines, and the seals: (nonce, outcome, mac)."""
    found = [(m.group(1), m.group(2), m.group(3)) for m in _SEAL_RE.finditer(text)]
    return _SEAL_RE.sub("", text), found


def is_sealed_test(cell: NotebookNode) -> bool:
    """An autograded test: a locked graded code cell (not an autograded answer, which is
    the learner's own code and passes when it runs)."""
    return (cell.cell_type == "code" and nbutils.is_grade(cell)
            and not nbutils.is_solution(cell))


def _seal_score(outcome: str, max_points: float) -> float:
    """The points a seal vouches for: nbgrader's partial credit on the sealed value."""
    _, _, value = outcome.partition(" ")
    if not value or value == "other":
        return max_points
    try:
        return nbutils.get_partial_grade(
            {"data": {"text/plain": value}}, max_points)  # type: ignore[arg-type]
    except ValueError:
        return max_points


def check_seals(nb: NotebookNode, cells: Mapping[str, CellGrade], key: bytes | None,
                nonces: Mapping[int, str],
                seals: Mapping[int, list[tuple[str, str, str]]]) -> list[str]:
    """Why this notebook's scores cannot be trusted (empty when they can).

    A test cell scores at most what its seal vouches for: a kernel that reports a pass (or
    more partial credit) without a valid seal had its tests' outcome changed."""
    reasons: list[str] = []
    if key is None:
        return reasons
    for index, nonce in nonces.items():
        cell = nb.cells[index]
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        grade = cells.get(grade_id)
        if grade is None or grade.auto_score is None:
            continue
        outcome = next((o for n, o, tag in seals.get(index, ())
                        if n == nonce and seal_valid(key, n, o, tag)), None)
        if outcome == "unsealable":
            continue
        vouched = 0.0 if outcome is None else _seal_score(outcome, grade.max_score)
        if grade.auto_score > vouched + 1e-9:
            reasons.append(
                f"test cell {grade_id} reported {grade.auto_score:g} point(s), but the test "
                + ("did not run to its end" if outcome is None
                   else f"only earned {vouched:g}")
                + " (the kernel's replies were tampered with)")
    return reasons


def _mb(n: int) -> str:
    return f"{n / 2**20:g}"


ERROR_KEEP = 16 * 1024  # characters of an error's name, value and traceback kept past the budget


def _shrink_error(output: dict) -> None:
    """Make an error output small: a name, a value and a traceback of ERROR_KEEP chars."""
    output["ename"] = str(output.get("ename", ""))[:200]
    value = str(output.get("evalue", ""))
    if len(value) > ERROR_KEEP:
        output["evalue"] = value[:ERROR_KEEP] + " ... (cut)"
    tb = [str(line) for line in output.get("traceback") or []]
    if sum(len(line) for line in tb) > ERROR_KEEP:
        kept, budget = [], ERROR_KEEP
        for line in reversed(tb):  # the end of a traceback says what failed
            if budget <= 0:
                break
            kept.append(line[-budget:])
            budget -= len(kept[-1])
        output["traceback"] = ["... (traceback cut)", *reversed(kept)]


def _small_error(msg: dict) -> dict:
    content = dict(msg.get("content") or {})
    _shrink_error(content)
    return {**msg, "content": content}


def _stop_output(reason: str) -> NotebookNode:
    return nbformat.v4.new_output(
        "error", ename="SandboxStopped", evalue=reason,
        traceback=[f"\x1b[0;31mSandboxStopped\x1b[0m: {reason}"],
    )


# --- score ---------------------------------------------------------------------------------
def score_notebook(nb: NotebookNode, master: ReleaseNotebook, config: Config,
                   assignment: str) -> dict[str, CellGrade]:
    """IgnorePattern, ClearMetadata, LimitOutput, then SaveAutoGrades' logic."""
    resources = _resources(assignment, master.name)
    for pp in (IgnorePattern(config=config), ClearMetadataPreprocessor(config=config),
               LimitOutput(config=config)):
        nb, resources = pp(nb, resources)
    cells = {g: CellGrade(max_score=float(master.cells[g].points or 0.0))
             for g in master.grade_ids}
    for cell in nb.cells:
        if nbutils.is_grade(cell):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            grade = cells[grade_id]
            auto_score, _ = nbutils.determine_grade(cell, log)
            grade.auto_score = auto_score
            grade.needs_manual_grade = grade.manual_score is not None or auto_score is None
            grade.failed = cell.cell_type == "code" and auto_score == 0
        if nbutils.is_solution(cell) or nbutils.is_task(cell):
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            unchanged = cell.metadata.nbgrader.get("checksum") == nbutils.compute_checksum(cell)
            if grade_id in cells:
                cells[grade_id].comment = (
                    "No response." if unchanged and not nbutils.is_task(cell) else None)
    return cells


# --- the submission ------------------------------------------------------------------------
def _read_submitted(path: Path) -> NotebookNode:
    with open(path, encoding="utf-8") as f:
        return nbformat.read(f, as_version=4)


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def setup_code(workdir: str, copy_files: bool) -> str:
    copy_part = (f"shutil.copytree({INBOX + '/files'!r}, {workdir!r}, dirs_exist_ok=True)"
                 if copy_files else f"os.makedirs({workdir!r}, exist_ok=True)")
    return (f"(lambda os, shutil: ({copy_part}, os.chdir({workdir!r})))"
            "(__import__('os'), __import__('shutil'))")


async def autograde_async(
    release: ReleaseBuild | Path | str,
    submission_dir: Path | str,
    pool: SandboxPool | None = None,
    *,
    context: Mapping[str, Any] | None = None,
    config: Config | None = None,
) -> GradeResult:
    """Grade the notebooks in ``submission_dir`` against ``release`` in a fresh sandbox."""
    if not isinstance(release, ReleaseBuild):
        release = build_release(Path(release))
    submission_dir = Path(submission_dir)
    config = config or Config()
    ctx = " ".join(f"{k}={v}" for k, v in (context or {}).items())
    slog = logging.LoggerAdapter(log, {})
    own_pool = pool is None
    if pool is None:
        pool = SandboxPool(warm=0, remove_stale=False, config=config)
    await pool.start()
    t_start = time.monotonic()
    result = GradeResult(notebooks={})
    try:
        async with pool.semaphore:
            await _grade_in_sandbox(release, submission_dir, pool, config, result, ctx, slog)
    finally:
        if own_pool:
            await pool.close()
    for nbg in result.notebooks.values():
        result.messages.extend(f"{nbg.name}: {m}" for m in nbg.messages)
    result.timings["total"] = time.monotonic() - t_start
    slog.info("[%s] graded %s: %s/%s in %.2f s", ctx, release.assignment, result.score,
              result.max_score, result.timings["total"])
    return result


async def _grade_in_sandbox(release: ReleaseBuild, submission_dir: Path, pool: SandboxPool,
                            config: Config, result: GradeResult, ctx: str,
                            slog: logging.LoggerAdapter) -> None:
    # Which notebooks run, in nbgrader's order (sorted file names).
    to_run: list[tuple[str, NotebookNode, list[str]]] = []
    failed_first: str | None = None
    for name in sorted(release.notebooks):
        master = release.notebooks[name]
        path = submission_dir / f"{name}.ipynb"
        if not path.exists():
            cells = {g: CellGrade(max_score=float(master.cells[g].points or 0.0),
                                  auto_score=0.0, needs_manual_grade=False)
                     for g in master.grade_ids}
            nbg = NotebookGrade(name, cells, [f"{name}.ipynb was not submitted: it scores 0."])
            result.notebooks[name] = nbg
            continue
        unscored = {g: CellGrade(max_score=float(master.cells[g].points or 0.0))
                    for g in master.grade_ids}
        if failed_first is not None:
            # nbgrader stops a submission at the first notebook it cannot grade; the
            # notebooks after it keep their ungraded state.
            msg = (f"{name}.ipynb was not autograded because {failed_first}.ipynb could not "
                   "be (nbgrader stops at the first such notebook); it waits for manual "
                   "grading.")
            result.notebooks[name] = NotebookGrade(name, unscored, [msg])
            continue
        try:
            nb = _read_submitted(path)
            nb, changes = sanitize(nb, master, release.assignment, config)
        except Exception as e:  # noqa: BLE001 - anything unreadable is the learner's file
            reason = (str(e) if isinstance(e, NotebookFailed) else
                      f"it is not a valid notebook ({e.__class__.__name__}: {str(e)[:300]})")
            msg = (f"{name}.ipynb could not be autograded: {reason}. Its cells wait for "
                   "manual grading (as nbgrader leaves them).")
            slog.warning("[%s] %s", ctx, msg)
            result.notebooks[name] = NotebookGrade(name, unscored, [msg])
            failed_first = name
            continue
        to_run.append((name, nb, changes))
    result.notebooks = dict(sorted(result.notebooks.items()))
    if not to_run:
        return

    files = _files_for_sandbox(release, submission_dir, pool, result)
    workdir = "/home/learner/" + (_SAFE.sub("_", release.assignment) or "assignment")
    t_wait = time.monotonic()
    sandbox: Sandbox = await pool.acquire(len(to_run))
    deadline = time.monotonic() + pool.wall_timeout
    result.timings["wait_sandbox"] = deadline - pool.wall_timeout - t_wait
    # What the learner sees (grader.engine.redact): from the first cell holding hidden
    # tests on, in the order the notebooks run, learner code could read those tests back.
    hidden = redact.HiddenSource.of(release)
    point = redact.first_hidden_cell((nb, release.notebooks[name]) for name, nb, _ in to_run)
    try:
        await asyncio.to_thread(sandbox.put_files, files)
        killed: str | None = None  # why the sandbox was killed, if it was
        review: list[str] = []
        rendered: list[tuple[NotebookNode, NotebookGrade]] = []
        for index, (name, nb, changes) in enumerate(to_run):
            executor = None
            master = release.notebooks[name]
            t0 = time.monotonic()
            messages = list(f"{c}." for c in changes)
            withheld_from = redact.withhold_from(point, index)
            snapshot = run_config = None
            if withheld_from:  # cells before the hidden tests, in this notebook: as they were
                snapshot = redact.Snapshot(nb, withheld_from)
                run_config = redact.snapshot_config(config, snapshot)
            if killed is not None:
                stop_reason = (f"Not run: the sandbox was stopped while an earlier notebook "
                               f"ran ({killed}); its tests score 0.")
                for cell in nb.cells:
                    if cell.cell_type == "code":
                        cell.outputs.append(_stop_output(stop_reason))
            else:
                stop_reason, killed_now, executor = await _execute_one(
                    sandbox, index, nb, master, release.assignment, run_config or config, pool,
                    setup_code(workdir, copy_files=index == 0), deadline, workdir)
                if killed_now:
                    killed = f"{name}: {stop_reason}"
            after_hidden = withheld_from is not None
            if stop_reason:
                messages.append(stop_reason)
                # `grader autograde` logs to stderr, which a learner's CI may show: the
                # learner's version here; the full reason is in the graded notebook's cells
                slog.warning("[%s] %s/%s: %s", ctx, release.assignment, name,
                             redact.learner_messages([stop_reason], after_hidden, hidden)[0])
            cells = score_notebook(nb, master, config, release.assignment)
            if executor is not None:
                review += [f"{name}: {r}" for r in check_seals(
                    nb, cells, executor.key, executor.nonces, executor.seals)]
            nbg = NotebookGrade(
                name, cells, redact.learner_messages(messages, after_hidden, hidden),
                graded_notebook=json.loads(nbformat.writes(nb)))
            view = redact.learner_notebook(
                nb, master, hidden, withheld_from=withheld_from,
                before=snapshot.outputs if snapshot else None, config=config)
            nbg.learner_notebook = json.loads(nbformat.writes(view))
            nbg.feedback_html = render_feedback(view, nbg)
            nbg.seconds = time.monotonic() - t0
            result.notebooks[name] = nbg
            rendered.append((view, nbg))
        if review:
            slog.warning("[%s] %s: sent to the instructor for review: %s", ctx,
                         release.assignment, "; ".join(review))
            result.send_to_review(review)
            note = f'<p class="note review">{REVIEW_MESSAGE}</p>'
            for view, nbg in rendered:  # the learner's page says so, not why
                page = render_feedback(view, nbg)
                nbg.feedback_html = page.replace("</h1>", "</h1>" + note, 1)
    finally:
        await pool.release(sandbox)
    result.timings["run"] = time.monotonic() - deadline + pool.wall_timeout
    result.notebooks = dict(sorted(result.notebooks.items()))


def _size_bytes(size: str) -> int:
    """Docker-style size ("64m", "1g", "512k", "1000") in bytes."""
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    size = size.strip().lower().rstrip("b")
    if size and size[-1] in units:
        return int(float(size[:-1]) * units[size[-1]])
    return int(size)


def _files_for_sandbox(release: ReleaseBuild, submission_dir: Path, pool: SandboxPool,
                       result: GradeResult) -> dict[str, bytes]:
    """The files next to the notebooks: the learner's, then the instructor's (nbgrader)."""
    # the kernels' working directory is a tmpfs: keep a margin for what the notebooks write
    budget = int(_size_bytes(pool.runner.tmpfs_size) * 0.75)
    ours = sum(len(v) for v in release.files.values())
    if ours > budget:
        raise SandboxError(
            f"The files of assignment {release.assignment} ({ours / 2**20:.1f} MB) do not fit "
            f"the sandbox's working space: raise DockerSandbox.tmpfs_size "
            f"(now {pool.runner.tmpfs_size})."
        )
    learner = {k: v for k, v in other_files(submission_dir).items() if k not in release.files}
    if ours + sum(len(v) for v in learner.values()) > budget:
        result.messages.append(
            f"The extra files submitted beside the notebooks ({len(learner)} files) were not "
            "given to the notebooks: together they are larger than the sandbox's space.")
        learner = {}
    return {**learner, **release.files}


async def _execute_one(sandbox: Sandbox, index: int, nb: NotebookNode, master: ReleaseNotebook,
                       assignment: str, config: Config, pool: SandboxPool, setup_code: str,
                       deadline: float, workdir: str
                       ) -> tuple[str | None, bool, SandboxedExecute]:
    """Run one notebook in kernel ``index``.

    Returns why it was stopped early or what of its output was dropped (None if neither),
    whether the whole sandbox was killed, and the executor (with the seals of the
    notebook's tests).
    """
    loop = asyncio.get_running_loop()
    progress = [0]
    reason: list[str] = []
    killed = [False]
    task: asyncio.Task | None = None

    def stop(why: str, kill: bool = True) -> None:
        if not reason:
            reason.append(why)
            killed[0] = kill
            if kill:
                # Flood or wall clock: nothing more of this submission may run.
                loop.run_in_executor(None, sandbox.signal, "SIGKILL")
            if task is not None:
                task.cancel()

    executor = SandboxedExecute(
        config=config, output_limit=pool.output_limit, received_limit=pool.received_limit,
        key=sandbox.keys.get(index),
        on_flood=lambda: stop(
            f"The notebook sent more than {_mb(pool.received_limit)} MB of output (its "
            f"first {_mb(pool.output_limit)} MB were kept); it was stopped there and the "
            "cells after it were not run (they score 0)."),
    )
    resources = _resources(assignment, master.name, path=workdir)
    km = SandboxKernelManager(sandbox, index)
    task = asyncio.ensure_future(executor.run(nb, resources, km, setup_code, progress))
    watch = asyncio.ensure_future(_watch_connection(sandbox, index, stop))
    remaining = deadline - time.monotonic()
    try:
        await asyncio.wait_for(asyncio.shield(task), max(remaining, 0.1))
    except TimeoutError:
        stop(f"The submission ran longer than its {pool.wall_timeout:.0f} s limit; it was "
             "stopped and the cells that did not finish were not run (they score 0).")
        await asyncio.gather(task, return_exceptions=True)
    except asyncio.CancelledError:
        if not reason:
            # The caller gave up on this submission (service shutdown, lost lease): stop the
            # notebook too, the sandbox goes with the caller's cleanup.
            task.cancel()
            raise
    except DeadKernelError:
        oom = await asyncio.to_thread(sandbox.oom_killed)
        # Only this notebook's kernel is gone: the submission's other notebooks still run.
        if not reason:  # (not when it died because the sandbox was stopped)
            stop("The kernel ran out of memory (limit " + sandbox.runner.mem_limit + ")"
                 if oom else "The kernel died (exit, crash or os._exit)", kill=False)
            reason[0] += (": the cells from the one that was running on were not run "
                          "(they score 0).")
    except Exception as e:  # noqa: BLE001 - any other failure stops this notebook only
        if index == 0 and not executor.learner_code_ran:
            # Nothing of the learner's ran in this sandbox yet: the sandbox is at fault,
            # not the submission. The service retries the job instead of grading it 0.
            raise SandboxError(f"sandbox {sandbox.name} failed before the first cell: "
                               f"{e.__class__.__name__}: {e}") from e
        stop(f"Execution stopped: {e.__class__.__name__}: {str(e)[:300]}; the cells that did "
             "not run score 0.", kill=False)
    finally:
        watch.cancel()
    cut = (f"The notebook printed more than {_mb(pool.output_limit)} MB of output; the "
           f"{executor.cut_note()} and the cells went on running." if executor.cut_cells
           else None)
    if task.done() and not task.cancelled() and task.exception() is None and not reason:
        return cut, False, executor
    # Every code cell from the one that was running on gets an error output, so its tests
    # fail, exactly as a kernel error would make them fail.
    why = reason[0] if reason else "the sandbox stopped"
    for cell in nb.cells[progress[0]:]:
        if cell.cell_type == "code":
            cell.outputs.append(_stop_output(why))
    return (f"{cut} {why}" if cut else why), killed[0], executor


async def _watch_connection(sandbox: Sandbox, index: int, stop: Any) -> None:
    """Stop the sandbox when kernel ``index`` sends a message over the maximum size.

    libzmq cuts the connection on such a message and nothing would arrive any more: the
    notebook would wait for its timeouts. A kernel that dies cuts it too; that case is
    left to nbclient, which reports a dead kernel."""
    what, certain = await sandbox.connection_cut(index)
    if not certain:
        await asyncio.sleep(1.0)  # the launcher reports a dead kernel within milliseconds
        if not await sandbox.kernel_alive(index):
            return
    limit = _mb(sandbox.runner.max_message_size)
    stop(f"The kernel sent a message larger than {limit} MB ({what}; the limit is "
         "DockerSandbox.max_message_size); the sandbox was stopped and the cells from the "
         "one that was running on were not run (they score 0).")


def autograde(
    release: ReleaseBuild | Path | str,
    submission_dir: Path | str,
    pool: SandboxPool | None = None,
    *,
    context: Mapping[str, Any] | None = None,
    config: Config | None = None,
) -> GradeResult:
    """Blocking form of ``autograde_async`` (a pool passed in must belong to no loop yet)."""
    return asyncio.run(autograde_async(release, submission_dir, pool, context=context,
                                       config=config))


def grade_directories(source_dir: Path, submission_dir: Path,
                      config: Config | None = None) -> GradeResult:
    """The CLI's work: build the release from SOURCE_DIR and grade SUBMISSION_DIR."""
    with tempfile.TemporaryDirectory():
        return autograde(build_release(Path(source_dir)), Path(submission_dir), config=config)
