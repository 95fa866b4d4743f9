import shutil
import subprocess
import sys
import time

import pytest
from stack import Stack, running_stack

# The shared stack runs with an operator's config.d/hub file, as the compose stack mounts
# one: test_learner_sandbox checks that what it sets reaches a learner's container.
CONFIG_D_HUB_FILE = "c.Spawner.environment['STUDIO_TEST_FROM_CONFIG_D'] = 'hub/10-env.py'\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    """A real proxy + hub, spawning real learner containers, for one test module."""
    workdir = tmp_path_factory.mktemp("stack")
    (workdir / "config.d" / "hub").mkdir(parents=True)
    (workdir / "config.d" / "hub" / "10-env.py").write_text(CONFIG_D_HUB_FILE)
    with running_stack(workdir, STUDIO_CONFIG_D=str(workdir / "config.d")) as s:
        yield s


OUTSIDE = {"internet": "198.18.0.80", "metadata": "169.254.169.254"}


# http.server looks up its own name at start, which hangs in a namespace with no DNS.
ANSWER = """
import socketserver, sys
class Answer(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
socketserver.TCPServer.allow_reuse_address = True
socketserver.TCPServer((sys.argv[1], 80), Answer).serve_forever()
"""


def _sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def outside_world():
    """Stand-ins for the internet and a cloud metadata server, on this machine.

    A network namespace joined to the host by a veth pair, with host routes to two
    addresses inside it: traffic from a container to them takes the same path as
    traffic to the real internet (forwarded off the Docker bridge), but ends here.
    Each address is routed explicitly (/32), and checked to be, before any probe.
    """
    if not shutil.which("ip"):
        pytest.fail("iproute2's `ip` is needed for the network isolation tests")
    ns, host_if, ns_if = "lstest-out", "lstout-h", "lstout-n"
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["ip", "link", "del", host_if], capture_output=True)
    _sh("ip", "netns", "add", ns)
    _sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
    _sh("ip", "link", "set", ns_if, "netns", ns)
    _sh("ip", "addr", "add", "192.0.0.9/30", "dev", host_if)  # IETF special-use block
    _sh("ip", "link", "set", host_if, "up")
    _sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
    _sh("ip", "netns", "exec", ns, "ip", "addr", "add", "192.0.0.10/30", "dev", ns_if)
    for ip in OUTSIDE.values():
        _sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{ip}/32", "dev", ns_if)
    _sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up")
    _sh("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", "192.0.0.9")
    servers = []
    for ip in OUTSIDE.values():
        _sh("ip", "route", "add", f"{ip}/32", "via", "192.0.0.10", "dev", host_if)
        assert f"dev {host_if}" in _sh("ip", "route", "get", ip).stdout
        servers.append(subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", ANSWER, ip],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    # Control: from the host, both stand-ins answer.
    for ip in OUTSIDE.values():
        _sh("python3", "-c", f"import socket; socket.create_connection(('{ip}', 80), 3)")
    yield OUTSIDE
    for p in servers:
        p.terminate()
    for ip in OUTSIDE.values():
        subprocess.run(["ip", "route", "del", f"{ip}/32"], capture_output=True)
    subprocess.run(["ip", "link", "del", host_if], capture_output=True)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
