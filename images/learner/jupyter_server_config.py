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

# Idle kernels are shut down inside the server (issue #12): each holds memory under the
# container's limit until the whole server is culled by the hub. The hub passes the
# settings (docs/operator-guide.md, "Kernel culling"); 0 seconds turns culling off.
import os  # noqa: E402

_cull_timeout = int(os.environ.get("STUDIO_KERNEL_CULL_TIMEOUT", "1200") or 0)
if _cull_timeout > 0:
    c.MappingKernelManager.cull_idle_timeout = _cull_timeout
    c.MappingKernelManager.cull_interval = int(
        os.environ.get("STUDIO_KERNEL_CULL_INTERVAL", "300") or 300)
    # a kernel with an open notebook tab is culled too when this is 1
    c.MappingKernelManager.cull_connected = (
        os.environ.get("STUDIO_KERNEL_CULL_CONNECTED", "0") == "1")
    c.MappingKernelManager.cull_busy = False  # a long computation is not idle

# Saves and uploads that hit the home's quota answer with the learner's usage and limit
# and what to do, instead of "Unexpected error while saving file".
c.ServerApp.contents_manager_class = "learning_studio_lab.home.HomeContentsManager"
