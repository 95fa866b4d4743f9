"""The sandbox's kernel launcher, run on this host exactly as a sandbox runs it: one process
forks N kernels from connection files beside it, and reports each kernel's exit on its
status socket. (In a sandbox it runs with the learner image's Python; tests/grader/engine's
Docker tests cover that.)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from grader.engine import kernel_launcher
from grader.engine.sandbox import LAUNCHER


def test_the_sandbox_runs_this_module_s_source():
    assert LAUNCHER == Path(kernel_launcher.__file__).read_text()
    assert "import grader" not in LAUNCHER  # the learner image has no grader package


@pytest.fixture
def inbox():
    # ipc socket paths must stay short (108 bytes), so not under pytest's deep tmp_path
    folder = Path(f"/tmp/ls-launcher-{os.getpid()}")
    folder.mkdir()
    shutil.copy(kernel_launcher.__file__, folder / "launch.py")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _client(info: dict) -> BlockingKernelClient:
    kc = BlockingKernelClient()
    kc.load_connection_info(info)
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    return kc


def test_two_kernels_from_one_launcher_and_their_exits_reported(inbox):
    infos = []
    for i in range(2):
        _, info = write_connection_file(str(inbox / f"kernel-{i}.json"), transport="ipc",
                                           ip=str(inbox / f"k{i}"))
        infos.append(info)
    status_path = str(inbox / "status")
    proc = subprocess.Popen([sys.executable, str(inbox / "launch.py"), "2", status_path],
                            cwd=inbox, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(status_path):
            assert proc.poll() is None, "the launcher exited"
            assert time.monotonic() < deadline, "no status socket"
            time.sleep(0.05)
        status = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        status.connect(status_path)
        status.settimeout(30)
        clients = [_client(info) for info in infos]
        # each kernel is its own process with its own namespace
        for i, kc in enumerate(clients):
            kc.execute_interactive(f"x = {i}; import os; pid = os.getpid()", timeout=30)
        outs = []
        for kc in clients:
            reply = kc.execute_interactive("print(x, pid)", timeout=30,
                                           output_hook=lambda m, o=outs: o.append(m))
            assert reply["content"]["status"] == "ok"
        printed = [m["content"]["text"].split() for m in outs if m["msg_type"] == "stream"]
        assert [p[0] for p in printed] == ["0", "1"] and printed[0][1] != printed[1][1]
        # a kernel that exits is reported at once with its index and wait status
        clients[1].execute("import os; os._exit(3)")
        line = status.recv(64).decode()
        assert line == f"1 {3 << 8}\n"
        for kc in clients:
            kc.stop_channels()
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
