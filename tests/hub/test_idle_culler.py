"""The idle culler runs as a hub-managed service and stops idle servers, keeping files."""

import pytest
from stack import running_stack, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def culling_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("cull"), STUDIO_IDLE_TIMEOUT="6") as s:
        yield s


def test_idle_server_is_culled_and_files_stay(culling_stack):
    stack = culling_stack
    services = stack.admin("GET", "services").json()
    culler = services["idle-culler"]
    assert culler["pid"] > 0, "the culler is not running as a managed service"
    assert "jupyterhub_idle_culler" in culler["command"]

    stack.spawn("alan")
    stack.container("alan")
    wait_for(lambda: not stack.admin("GET", "users/alan").json()["servers"], 60,
             "the culler to stop alan's idle server", interval=1)
    assert not stack.docker.containers.list(all=True, filters={"name": f"^{stack.prefix}-alan$"})
    stack.docker.volumes.get(f"{stack.prefix}-home-alan")  # files stay
