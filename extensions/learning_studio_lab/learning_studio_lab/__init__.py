"""Learning Studio in JupyterLab: the Courses panel, Check, Hint, Submit and feedback.

A jupyter-server extension (routes under ``/learning-studio/``) and a JupyterLab
extension (the built TypeScript, shipped as shared data in ``labextension/``).
"""

from __future__ import annotations

from pathlib import Path

from traitlets import Unicode
from traitlets.config import Configurable

from .grader_client import GraderClient
from .handlers import setup_handlers
from .lessons import LessonLibrary
from .workspace import SubmissionRules

__version__ = "0.1.0"


class LearningStudio(Configurable):
    """Where a learner's course work lives in their server."""

    courses_dir = Unicode(
        "",
        help="Folder of fetched assignments and opened lessons (<courses_dir>/<course>/"
        "<assignment>/). Relative paths are inside the server's root_dir. Default: "
        "'courses' in the server's root_dir (the learner's home).",
    ).tag(config=True)


def _jupyter_labextension_paths() -> list[dict]:
    return [{"src": "labextension", "dest": "@learning-studio/lab"}]


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "learning_studio_lab"}]


def _load_jupyter_server_extension(server_app) -> None:
    config = server_app.config
    studio = LearningStudio(config=config)
    root = Path(server_app.root_dir).expanduser()
    courses_dir = root / (studio.courses_dir or "courses")
    grader = GraderClient(config=config)
    setup_handlers(server_app.web_app, {
        "grader": grader,
        "lessons": LessonLibrary(config=config),
        "rules": SubmissionRules(config=config),
        "courses_dir": courses_dir,
        "home_dir": str(root),
    })
    server_app.log.info(
        "learning-studio: grader at %s, courses in %s", grader.grader_url or "(not set)",
        courses_dir,
    )
