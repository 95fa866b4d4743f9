"""``nbgrader autograde`` of collected work, without running learner code here.

nbgrader's own autograde runs each submission in a kernel started by the instructor's
server, as the instructor: the kernel inherits ``$JUPYTERHUB_API_TOKEN``, and even with
that variable removed it runs as the same uid as the server, so it can read
``/proc/<server pid>/environ``, the runtime folder (server and kernel connection files),
the course's ``source/`` with its hidden tests, and write ``~/.bashrc`` or an IPython
startup file that the instructor's next terminal or kernel runs. Nothing short of another
uid or another container makes that safe, and the instructor's container has neither.

The grader service already ran every submission in a throw-away sandbox (no network,
no token, the learner image) when it was submitted. :class:`GraderExecute` takes the
place of nbgrader's ``Execute`` preprocessor: it fetches the notebook the grader executed
for the same submission (matched by learner and the ``timestamp.txt`` that
``nbgrader collect`` wrote) and copies its outputs into the notebook nbgrader prepared,
so nbgrader's own scoring (``SaveAutoGrades``), late penalties, ``generate_feedback``
and ``release_feedback`` work unchanged, and no learner code runs in this container.
The learner image's ``nbgrader_config.py`` turns it on::

    from learning_studio_lab.autograde import AUTOGRADE_PREPROCESSORS
    c.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nbformat
from nbgrader.converters.autograde import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Float

from .errors import StudioError
from .grader_client import GraderClient, q


class NotGradedHere(Exception):
    """A notebook the grader has no sandbox result for; it is not run here instead."""


SAFE_COMMANDS = (
    "learner code runs only in the grader's sandboxes, never in your server. The grader's "
    "grades: `nbgrader list --inbound --course=<course>` or the Submissions view of the "
    "Courses panel (Regrade is there)"
)


class GraderExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, answered by the grader's sandbox run of the same
    submission instead of a kernel in this server."""

    wait_seconds = Float(
        300.0, help="How long to wait for a submission the grader has not finished grading "
        "(queued or running) before reporting it; 0: do not wait."
    ).tag(config=True)

    poll_seconds = Float(
        2.0, help="Seconds between two looks at a submission still being graded."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        coursedir = self._coursedir()
        if not coursedir.course_id:
            raise NotGradedHere(
                "say which course: --course=<course> (the grader's results are per course)")
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        stamp = folder / "timestamp.txt"
        if not stamp.is_file():
            raise NotGradedHere(
                f"{folder} has no timestamp.txt, so it did not come from `nbgrader collect` "
                f"and the grader has no sandbox run of it: collect it with `nbgrader collect "
                f"{assignment} --course={coursedir.course_id}`. It is not run here: "
                f"{SAFE_COMMANDS}")
        when = stamp.read_text().strip()
        graded = self._run(self._graded(coursedir.course_id, assignment, student, when,
                                        notebook))
        self._take_outputs(nb, graded, student, notebook)
        self.log.info("%s/%s of %s: outputs of the grader's sandbox run (nothing ran here)",
                      assignment, notebook, student)
        return nb, resources

    # ---- where the grader's result comes from -----------------------------------------

    def _coursedir(self) -> CourseDirectory:
        parent = self.parent
        while parent is not None:
            if isinstance(getattr(parent, "coursedir", None), CourseDirectory):
                return parent.coursedir
            parent = getattr(parent, "parent", None)
        return CourseDirectory(config=self.config)

    def _run(self, coro):
        try:
            return asyncio.run(coro)
        except StudioError as e:
            raise NotGradedHere(f"{e.code}: {e.message}") from None

    async def _graded(self, course: str, assignment: str, student: str, when: str,
                      notebook: str) -> nbformat.NotebookNode:
        grader = GraderClient(parent=self)
        deadline = time.monotonic() + self.wait_seconds
        path = (f"courses/{q(course)}/assignments/{q(assignment)}/submissions"
                f"?username={q(student)}")
        while True:
            subs = [s for s in await grader.request("GET", path)
                    if s.get("username") == student and s.get("submitted_at") == when]
            if not subs:
                raise NotGradedHere(
                    f"the grader has no submission of {student} for {assignment} made at "
                    f"{when} (timestamp.txt): collect again with `nbgrader collect "
                    f"{assignment} --course={course} --update`. It is not run here: "
                    f"{SAFE_COMMANDS}")
            sub = subs[-1]
            if sub["status"] != "grading" or time.monotonic() >= deadline:
                break
            self.log.info("waiting for the grader to grade %s's submission %s", student,
                          sub["id"])
            await asyncio.sleep(self.poll_seconds)
        if sub["status"] != "graded":
            job = sub.get("job") or {}
            why = f" ({job['error']})" if job.get("error") else ""
            raise NotGradedHere(
                f"the grader has not graded {student}'s submission {sub['id']} of "
                f"{assignment}: its status is {sub['status']}{why}. Regrade it (the "
                "Submissions view, or POST .../submissions/<id>/regrade) and run autograde "
                "again; it is not run here instead")
        try:
            body, _ = await grader.request(
                "GET", f"submissions/{int(sub['id'])}/graded/{q(notebook)}", raw=True)
        except StudioError as e:
            if getattr(e, "status", None) != 404:
                raise
            message = sub.get("message") or "no message"
            raise NotGradedHere(
                f"the grader could not run {notebook}.ipynb of {student}'s submission "
                f"{sub['id']} ({message}); it waits for manual grading in the grader") from None
        return nbformat.reads(body.decode("utf-8"), as_version=4)

    # ---- what is taken from it --------------------------------------------------------

    @staticmethod
    def _take_outputs(nb, graded, student: str, notebook: str) -> None:
        """Outputs and execution counts, cell by cell, after checking that the grader ran
        exactly these cells: the same learner cells and the same tests, hidden ones too
        (nbgrader put both sides' locked cells back from a master)."""
        mismatch = None
        if len(graded.cells) != len(nb.cells):
            mismatch = f"it has {len(graded.cells)} cells, yours {len(nb.cells)}"
        else:
            for index, (mine, theirs) in enumerate(zip(nb.cells, graded.cells, strict=True)):
                if mine.cell_type != theirs.cell_type or mine.source != theirs.source:
                    gid = mine.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                    mismatch = f"cell {index}{f' ({gid})' if gid else ''} differs"
                    break
        if mismatch:
            raise NotGradedHere(
                f"the grader graded {student}'s {notebook}.ipynb against a release that "
                f"differs from your gradebook's ({mismatch}). Make your gradebook from the "
                "source you released (`nbgrader generate_assignment <assignment> --force`), "
                "or release your current source and regrade; the notebook is not run here")
        for mine, theirs in zip(nb.cells, graded.cells, strict=True):
            if mine.cell_type == "code":
                mine.outputs = theirs.get("outputs", [])
                mine.execution_count = theirs.get("execution_count")
        if "language_info" in graded.metadata:
            nb.metadata["language_info"] = graded.metadata["language_info"]


# nbgrader's autograde steps with Execute replaced: set as c.Autograde.autograde_preprocessors
AUTOGRADE_PREPROCESSORS = [
    GraderExecute if pp is Execute else pp
    for pp in Autograde.class_traits()["autograde_preprocessors"].default()
]
if GraderExecute not in AUTOGRADE_PREPROCESSORS:  # a future nbgrader renamed its Execute step
    raise ImportError("nbgrader's autograde has no Execute step to replace: "
                      "learning_studio_lab.autograde does not support this nbgrader version")
