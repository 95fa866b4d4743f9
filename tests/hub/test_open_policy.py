"""The `open` network policy: the internet is reachable, other learners still are not.

Also the control for the closed-policy test: the same probes, the same stand-ins,
the other answer."""

import pytest
from stack import running_stack
from test_learner_sandbox import _connects

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def open_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("open"), STUDIO_NETWORK_POLICY="open") as s:
        yield s


def test_open_policy_reaches_the_internet_but_not_other_learners(open_stack, outside_world):
    stack = open_stack
    stack.spawn("alan")
    stack.spawn("grace")
    alan, grace = stack.container("alan"), stack.container("grace")
    grace.reload()
    grace_ip = grace.attrs["NetworkSettings"]["Networks"][f"{stack.prefix}-learners"]["IPAddress"]
    assert stack.docker.networks.get(f"{stack.prefix}-learners").attrs["Internal"] is False
    assert _connects(alan, outside_world["internet"], 80)
    assert not _connects(alan, grace_ip, 8888)
