"""Server settings baked into the learner image (and so the grading sandbox)."""

c = get_config()  # noqa: F821

# Only what a learner uses: JupyterLab and terminals. nbgrader's own server extensions
# (formgrader, assignment list) are replaced by the grader service and our extension;
# the classic notebook UI and the language-server bridge have nothing to serve here.
# Each one that is off is import time saved at every spawn.
c.ServerApp.jpserver_extensions = {
    "jupyterlab": True,
    "jupyter_server_terminals": True,
    # Learning Studio: the Courses panel, Check, Hint, Submit (extensions/)
    "learning_studio_lab": True,
    "notebook": False,
    "notebook_shim": False,
    "jupyter_lsp": False,
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.validate_assignment": False,
    "nbgrader.server_extensions.assignment_list": False,
    "nbgrader.server_extensions.course_list": False,
}
# No news or update checks: learner containers have no internet.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
