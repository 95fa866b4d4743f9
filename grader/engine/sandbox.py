"""Sandboxes: throw-away containers that run only the IPython kernels of one submission.

The execution client (nbclient) and the scoring stay in the trusted grader process; the
container holds nothing but kernels, reached over ZeroMQ ``ipc`` sockets in a per-sandbox
directory bind-mounted into the container, so the container keeps ``network=none``.

Per sandbox, on the grader's disk (``work_root/<id>/``):

- ``inbox/`` mounted read-only at ``/sandbox/inbox``: the kernel launcher, the connection
  files, and (once a submission is assigned) the files the notebooks may read. The grader
  can still write into it after the container started, the container cannot.
- ``ipc/`` mounted at ``/sandbox/ipc``: the kernels create their sockets here. Once every
  kernel is up, the grader takes the directory back (root-owned, 0755), so student code can
  neither fill the grader's disk through it nor replace a socket.

Inside the container a small launcher imports ipykernel once and forks one kernel per
notebook, which saves the import time for every notebook after the first.

One ``Sandbox`` serves exactly one submission and is then removed. ``SandboxPool`` keeps a
few sandboxes started ahead of need ("warm"), so a submission does not wait for a container
and a kernel to start.

Another backend (Kubernetes: a pod per sandbox, the ipc directory an ``emptyDir`` shared with
a grader sidecar) would subclass ``DockerSandbox`` and ``Sandbox``: the pool and the grading
code use only ``runner.start(kernels)``, ``runner.remove_all()``, ``runner.tmpfs_size``,
``runner.mem_limit``, ``runner.zmq_context``, ``runner.live`` and, on a sandbox,
``put_files``, ``host_connection_info``, ``clients``, ``kernel_alive``, ``signal``,
``oom_killed``, ``stop_clients`` and ``remove``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import queue
import secrets
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import zmq
import zmq.asyncio
from docker.types import LogConfig, Ulimit
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Bool, Float, Integer, Type, Unicode, default
from traitlets.config import LoggingConfigurable

from grader.engine import kernel_guard, kernel_launcher

log = logging.getLogger("grader.engine.sandbox")

INBOX = "/sandbox/inbox"
IPC = "/sandbox/ipc"
# The user the learner image runs as; the kernels run as this user in the sandbox too.
LEARNER_UID = 1000

# Host threads gVisor's sentry and gofer need per kernel of a sandbox (measured with the
# ptrace platform: 74 for one idle kernel, 96 for two, 179 for four; a little more once they ran
# code): added to the pids limit under gVisor (DockerSandbox.host_pids_limit).
GVISOR_PIDS_PER_KERNEL = 64

# The kernel launcher runs inside the container with the learner image's Python, which
# does not have the grader: its source is copied into the inbox (grader.engine.kernel_launcher).
LAUNCHER = Path(kernel_launcher.__file__).read_text()
GUARD = Path(kernel_guard.__file__).read_text()
ARM_CODE = "__import__('sys').audit('learning_studio.arm')"


# Which grader process started a sandbox: several may share one Docker host, and each
# cleans up only after processes that are gone.
OWNER_LABEL = "learning-studio.owner"
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str | None) -> bool:
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's (or unlabelled): not ours to judge
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class SandboxError(Exception):
    """A sandbox failed while it started or ran (the grading job is retried)."""


class SandboxUnavailable(SandboxError):
    """No sandbox can be started here: the Docker engine is down, the learner image is not
    built, or the process is not root. An operator's problem; the message says the fix."""


class MessageTooLarge(Exception):
    """A kernel message larger than the grader's maximum message size."""


class BoundedChannel(AsyncZMQSocketChannel):
    """A kernel channel that reads a message frame by frame and refuses one whose frames
    together pass the socket's MAXMSGSIZE.

    libzmq bounds each frame (it cuts the connection on a larger one) but not their sum:
    a kernel could send one message of a thousand 60 MB frames, all views of the same
    bytes in its own memory, and ``recv_multipart`` would hold them all here.
    """

    on_oversize: Any = None  # called with the size seen so far
    # True: leave each message's content packed (bytes): a reader that drops most messages
    # (output past its budget) then pays for no JSON parsing; it unpacks what it keeps.
    lazy_content = False

    async def _recv(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        sock = self.socket
        assert sock is not None
        limit = sock.getsockopt(zmq.MAXMSGSIZE)
        frames: list[bytes] | None = []
        total = 0
        while True:
            frame = await sock.recv(copy=False)
            total += len(frame)
            if frames is not None:
                if 0 <= limit < total:
                    frames = None  # drop what was read, drain the rest of this message
                else:
                    frames.append(frame.bytes)
            if not frame.more:
                break
        if frames is None:
            if self.on_oversize is not None:
                self.on_oversize(total)
            raise MessageTooLarge(f"a kernel message of {total} bytes (limit {limit})")
        _ident, smsg = self.session.feed_identities(frames)
        msg = self.session.deserialize(smsg, content=not self.lazy_content)
        msg["wire_bytes"] = total  # what the message cost to receive, all frames
        return msg


class SandboxKernelClient(AsyncKernelClient):
    """A kernel client whose "is the kernel alive" comes from the sandbox's launcher.

    nbclient asks the client; jupyter_client would answer from the heartbeat, which a busy
    machine can delay past its deadline and so fail a live kernel.
    """

    sandbox: Any = None
    index: int = 0
    shell_channel_class = Type(BoundedChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(BoundedChannel)  # type: ignore[assignment]
    stdin_channel_class = Type(BoundedChannel)  # type: ignore[assignment]
    control_channel_class = Type(BoundedChannel)  # type: ignore[assignment]

    async def is_alive(self) -> bool:  # type: ignore[override]
        if self.sandbox is None:
            return await super()._async_is_alive()
        return await self.sandbox.kernel_alive(self.index)


class SandboxKernelManager:
    """The part of jupyter_client's KernelManager that nbclient uses, for a sandbox kernel.

    nbclient is given this object as ``km``: it does not own it, so it never starts or shuts
    down the kernel; the sandbox's lifetime is managed by ``Sandbox``.
    """

    has_kernel = True

    def __init__(self, sandbox: Sandbox, index: int):
        self.sandbox = sandbox
        self.index = index
        self.kernel_id = f"{sandbox.name}/{index}"

    def client(self, **kwargs: Any) -> AsyncKernelClient:
        """The client connected while the sandbox warmed up (iopub already subscribed)."""
        kc = self.sandbox.clients.get(self.index)
        if kc is not None:
            return kc
        kc = SandboxKernelClient(context=self.sandbox.zmq_context, **kwargs)
        kc.sandbox, kc.index = self.sandbox, self.index
        kc.load_connection_info(self.sandbox.host_connection_info(self.index))
        return kc

    async def is_alive(self) -> bool:
        return await asyncio.to_thread(self.sandbox.is_running)

    async def interrupt_kernel(self) -> None:
        # tini (the image's PID 1, run with -g) forwards SIGINT to the launcher's process
        # group: the busy kernel gets KeyboardInterrupt, idle kernels ignore it. SIGCONT
        # first: a kernel that stopped itself (SIGSTOP) would not see the interrupt.
        await asyncio.to_thread(self.sandbox.signal, "SIGCONT")
        await asyncio.to_thread(self.sandbox.signal, "SIGINT")

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        return None

    async def cleanup_resources(self, restart: bool = False) -> None:
        return None


async def _until_subscribed(kc: AsyncKernelClient) -> None:
    """Wait until the kernel answers on shell *and* our iopub subscription is live.

    jupyter_client's ``wait_for_ready`` ends with a fixed 0.2 s iopub drain; seeing the
    kernel's status message for our own request proves the subscription in a few ms.
    """
    while True:
        msg_id = kc.kernel_info()
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                msg = await kc.iopub_channel.get_msg(timeout=max(deadline - time.monotonic(), 0.01))
            except Exception:  # noqa: BLE001 - queue.Empty: send another request
                break
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                # drain the rest of this request's messages (status idle, the reply)
                await kc.shell_channel.get_msg(timeout=5)
                while await kc.iopub_channel.msg_ready():
                    await kc.iopub_channel.get_msg(timeout=0.01)
                return


async def _arm(kc: AsyncKernelClient, timeout: float = 10.0) -> bytes:
    """Arm a kernel's guard; its key is in that request's output (and nowhere else)."""
    msg_id = kc.execute(ARM_CODE, silent=False, store_history=False)
    text = []
    deadline = time.monotonic() + timeout
    while True:
        msg = await kc.iopub_channel.get_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text.append(msg["content"]["text"])
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    while True:
        reply = await kc.shell_channel.get_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            break
    out = "".join(text)
    start = out.find(kernel_guard.ARM_OUT)
    end = out.find("##", start + len(kernel_guard.ARM_OUT)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise RuntimeError(f"the kernel's guard did not arm (output {out[:300]!r})")
    return bytes.fromhex(out[start + len(kernel_guard.ARM_OUT):end])


def _cancel(task: asyncio.Task) -> None:
    """Cancel a task from its loop's thread or another one (remove() may run in a worker
    thread)."""
    try:
        task.get_loop().call_soon_threadsafe(task.cancel)
    except RuntimeError:  # its loop is closed: nothing left to cancel
        pass


class Sandbox:
    """One container with ``kernels`` IPython kernels, for one submission only."""

    def __init__(self, runner: DockerSandbox, kernels: int):
        self.runner = runner
        self.kernels = kernels
        self.id = uuid.uuid4().hex[:12]
        self.name = f"{runner.name_prefix}{self.id}"
        self.dir = Path(runner.work_root) / self.id
        self.inbox = self.dir / "inbox"
        self.ipc = self.dir / "ipc"
        self.key = secrets.token_hex(32)
        self.container: Any = None
        self.used = False
        self.started_at = 0.0
        self.clients: dict[int, AsyncKernelClient] = {}
        # each kernel's guard key (grader.engine.kernel_guard), read when it was armed
        self.keys: dict[int, bytes] = {}
        self.dead: dict[int, int] = {}  # kernel index -> wait status, from the launcher
        self.launcher_gone = False
        self._status_task: asyncio.Task | None = None
        self.zmq_context = runner.zmq_context
        # kernel index -> why its connection is no longer to be trusted (see _cut)
        self.cuts: dict[int, tuple[str, bool]] = {}
        self._cut_events: dict[int, asyncio.Event] = {}
        self._monitors: list[tuple[Any, Any, asyncio.Task]] = []

    # -- connection files -------------------------------------------------------------
    def _connection_info(self, index: int, ipc_dir: str) -> dict[str, Any]:
        return {
            "transport": "ipc",
            "ip": f"{ipc_dir}/k{index}",
            "shell_port": 1,
            "iopub_port": 2,
            "stdin_port": 3,
            "control_port": 4,
            "hb_port": 5,
            "key": self.key,
            "signature_scheme": "hmac-sha256",
            "kernel_name": "python3",
        }

    def host_connection_info(self, index: int) -> dict[str, Any]:
        return self._connection_info(index, str(self.ipc))

    # -- lifecycle --------------------------------------------------------------------
    def create(self) -> None:
        """Start the container (blocking; call in a thread)."""
        r = self.runner
        try:
            self.inbox.mkdir(parents=True)
            self.ipc.mkdir()
            os.chmod(self.dir, 0o755)
            (self.inbox / "launch.py").write_text(LAUNCHER)
            if r.seal_tests:
                (self.inbox / "guard.py").write_text(GUARD)
            for i in range(self.kernels):
                info = self._connection_info(i, IPC)
                (self.inbox / f"kernel-{i}.json").write_text(json.dumps(info))
            (self.inbox / "files").mkdir()
            # the kernels (uid 1000) create their sockets here; taken back once they are up
            os.chown(self.ipc, LEARNER_UID, LEARNER_UID)
            os.chmod(self.ipc, 0o700)
        except OSError as e:
            raise SandboxError(
                f"Cannot prepare sandbox directory {self.dir} ({e}): DockerSandbox.work_root "
                "must be writable and the grader must be allowed to chown (run it as root)."
            ) from e
        if problem := r.gvisor_problem():
            raise SandboxUnavailable(problem)
        tmpfs_opts = f"size={r.tmpfs_size},uid={LEARNER_UID},gid={LEARNER_UID},mode=0700"
        self.started_at = time.monotonic()
        try:
            self.container = r.docker.containers.run(
                r.image,
                command=["python", f"{INBOX}/launch.py", str(self.kernels),
                         f"{IPC}/launcher"],
                name=self.name,
                detach=True,
                user=f"{LEARNER_UID}:{LEARNER_UID}",
                network_mode="none",
                read_only=True,
                tmpfs={"/home/learner": tmpfs_opts, "/tmp": tmpfs_opts},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                mem_limit=r.mem_limit,
                memswap_limit=r.mem_limit,
                nano_cpus=int(r.cpu_limit * 1e9),
                pids_limit=r.host_pids_limit(self.kernels),
                ulimits=[Ulimit(name="nofile", soft=1024, hard=1024)],
                environment={"NBGRADER_EXECUTION": "autograde", "HOME": "/home/learner"},
                working_dir="/home/learner",
                volumes={
                    str(self.inbox): {"bind": INBOX, "mode": "ro"},
                    str(self.ipc): {"bind": IPC, "mode": "rw"},
                },
                labels={"learning-studio.role": "sandbox", OWNER_LABEL: OWNER},
                runtime=r.runtime or None,
                # Kernel stdout/stderr at the fd level goes to the container log: cap it so
                # a flood cannot fill the docker host's disk.
                log_config=LogConfig(type="json-file", config={
                    "max-size": r.log_max_size, "max-file": str(r.log_max_files)}),
            )
        except docker.errors.ImageNotFound as e:
            raise SandboxError(
                f"Sandbox image {r.image!r} not found: build it (images/learner) or set "
                "DockerSandbox.image."
            ) from e
        except docker.errors.APIError as e:
            if r.runtime and "runtime" in str(e.explanation or "").lower():
                raise SandboxUnavailable(r.unknown_runtime_message()) from e
            raise SandboxError(f"Could not start sandbox container {self.name}: {e}") from e
        except docker.errors.DockerException as e:
            raise SandboxError(f"Could not start sandbox container {self.name}: {e}") from e

    async def wait_ready(self, timeout: float) -> None:
        """Wait until every kernel answers, then take the ipc directory back."""

        async def one(i: int) -> None:
            kc = SandboxKernelManager(self, i).client()
            # nbclient decides "the kernel died" from the heartbeat alone (no local process
            # to poll): give it slack, a loaded machine must not fail a live kernel.
            kc.hb_channel.time_to_dead = self.runner.heartbeat_timeout
            kc.start_channels()
            await _until_subscribed(kc)
            # Arm the guard now, before the sandbox serves any submission: no learner code
            # (not even another notebook's, which could reach this kernel) has run yet.
            if self.runner.seal_tests:
                self.keys[i] = await _arm(kc)
            self.clients[i] = kc

        try:
            await asyncio.wait_for(
                asyncio.gather(*(one(i) for i in range(self.kernels))), timeout
            )
        except (TimeoutError, RuntimeError, queue.Empty) as e:
            self.stop_clients()
            logs = await asyncio.to_thread(self.logs)
            await asyncio.to_thread(self.remove)
            raise SandboxError(
                f"Kernels in sandbox {self.name} did not start within {timeout:.0f} s. "
                f"Container log:\n{logs[-2000:]}"
            ) from e
        # Every socket exists now: no new files are needed in the ipc directory.
        os.chown(self.ipc, 0, 0)
        os.chmod(self.ipc, 0o755)
        for i, kc in self.clients.items():
            self._watch_connection(i, kc)
        reader, writer = await asyncio.open_unix_connection(str(self.ipc / "launcher"))
        self._status_task = asyncio.ensure_future(self._read_status(reader, writer))

    # -- connection watch -------------------------------------------------------------
    def _watch_connection(self, index: int, kc: AsyncKernelClient) -> None:
        """Notice when a kernel message is too large: libzmq then silently cuts the
        connection (a socket monitor sees it), or our channel refuses it (BoundedChannel).
        Either way the notebook would otherwise wait for replies that never come."""
        self._cut_events[index] = asyncio.Event()
        for name in ("iopub", "shell"):
            channel = getattr(kc, f"{name}_channel")
            channel.on_oversize = lambda size, i=index: self._cut(
                i, f"a kernel message of {size / 2**20:.0f} MB", certain=True)
            sock = channel.socket
            mon = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            task = asyncio.ensure_future(self._read_monitor(index, name, mon))
            self._monitors.append((sock, mon, task))

    async def _read_monitor(self, index: int, name: str, mon: Any) -> None:
        try:
            await mon.recv_multipart()
        except (zmq.ZMQError, asyncio.CancelledError):
            return
        # A kernel that dies also disconnects: the caller tells the two apart.
        self._cut(index, f"the {name} connection was cut", certain=False)

    def _cut(self, index: int, why: str, certain: bool) -> None:
        if index not in self.cuts:
            self.cuts[index] = (why, certain)
            event = self._cut_events.get(index)
            if event is not None:
                event.set()

    async def connection_cut(self, index: int) -> tuple[str, bool]:
        """Wait until kernel ``index``'s connection is cut; returns (what happened,
        whether it is certainly an oversized message rather than a dying kernel)."""
        event = self._cut_events.setdefault(index, asyncio.Event())
        await event.wait()
        return self.cuts[index]

    async def _read_status(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                index, _, code = line.decode().partition(" ")
                self.dead[int(index)] = int(code)
        except (OSError, ValueError):
            pass
        finally:
            self.launcher_gone = True
            writer.close()

    async def kernel_alive(self, index: int) -> bool:
        if index in self.dead:
            return False
        if self.launcher_gone:
            # the learner's code may have killed the launcher: ask Docker and the heartbeat
            kc = self.clients.get(index)
            beating = kc is None or kc.hb_channel.is_beating()
            return beating and await asyncio.to_thread(self.is_running)
        return True

    def put_files(self, files: Mapping[str, bytes]) -> None:
        """Make files available to the kernels (under /sandbox/inbox/files, read-only)."""
        root = self.inbox / "files"
        for rel, data in files.items():
            path = (root / rel).resolve()
            if root.resolve() not in path.parents:
                raise ValueError(f"file path {rel!r} escapes the assignment folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, 0o644)
        for d, _dirs, _files in os.walk(root):
            os.chmod(d, 0o755)

    def is_running(self) -> bool:
        try:
            self.container.reload()
        except docker.errors.NotFound:
            return False
        return self.container.status == "running"

    def oom_killed(self) -> bool:
        """Whether the kernel memory limit killed a process in this sandbox."""
        # Docker's State.OOMKilled covers only the container's main process; the kernels
        # are its children, so read the cgroup's own OOM kill counter where it is visible.
        cid = getattr(self.container, "id", "")
        for path in (f"/sys/fs/cgroup/memory/docker/{cid}/memory.oom_control",
                     f"/sys/fs/cgroup/memory/system.slice/docker-{cid}.scope/memory.oom_control",
                     f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/memory.events",
                     f"/sys/fs/cgroup/docker/{cid}/memory.events"):
            try:
                text = Path(path).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value) > 0
        # No cgroup: the whole container is gone or going. Under gVisor that is how an OOM
        # kill looks (the host kills the sandbox's own process: every kernel dies at once),
        # and Docker records it once the container has exited: wait for that, briefly.
        try:
            if self.runner.gvisor and self.is_running():
                self.container.wait(timeout=5)
            self.container.reload()
        except docker.errors.NotFound:
            return False
        except Exception:  # noqa: BLE001 - still running after 5 s: not an OOM kill
            return False
        return bool(self.container.attrs.get("State", {}).get("OOMKilled"))

    def signal(self, sig: str) -> None:
        try:
            self.container.kill(signal=sig)
        except docker.errors.APIError:
            pass

    def logs(self) -> str:
        try:
            return self.container.logs(tail=50).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - diagnostics only
            return ""

    def stop_clients(self) -> None:
        monitors, self._monitors = self._monitors, []
        for sock, mon, task in monitors:
            # (pool.release and pool.close call this in the loop before remove())
            _cancel(task)
            try:
                sock.disable_monitor()
            except Exception:  # noqa: BLE001 - the socket may be closed already
                pass
            mon.close(linger=0)
        if self._status_task is not None:
            task, self._status_task = self._status_task, None
            _cancel(task)
        for kc in self.clients.values():
            try:
                kc.stop_channels()
            except Exception:  # noqa: BLE001 - best effort on a dying sandbox
                pass
        self.clients.clear()

    def remove(self) -> None:
        self.stop_clients()
        self.runner.live.discard(self)
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as e:
                log.warning("Could not remove sandbox %s: %s", self.name, e)
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.dir.exists():
            log.warning("Could not remove all of %s; remove it by hand", self.dir)


class DockerSandbox(LoggingConfigurable):
    """Starts sandbox containers of the learner image on the local Docker engine."""

    image = Unicode(
        "learning-studio/learner:latest",
        help="Image the sandbox runs: the learner image, so code grades as it ran when written.",
    ).tag(config=True)
    mem_limit = Unicode(
        "512m", help="Memory limit of a sandbox (no swap). A kernel over it is killed."
    ).tag(config=True)
    cpu_limit = Float(1.0, help="CPUs a sandbox may use (docker --cpus).").tag(config=True)
    pids_limit = Integer(
        128, help="Maximum number of processes and threads in a sandbox (stops fork bombs)."
    ).tag(config=True)
    tmpfs_size = Unicode(
        "64m",
        help="Size of each writable tmpfs (/home/learner and /tmp); the root is read-only.",
    ).tag(config=True)
    name_prefix = Unicode(
        "ls-sandbox-", help="Container name prefix; cleanup removes containers by it."
    ).tag(config=True)
    work_root = Unicode(
        help="Grader-side directory for the per-sandbox inbox and ipc directories. Must be a "
        "path the Docker engine can bind-mount (same host).",
    ).tag(config=True)
    startup_timeout = Float(
        30.0, help="Seconds to wait for the kernels of a new sandbox to answer."
    ).tag(config=True)
    heartbeat_timeout = Float(
        5.0,
        help="Seconds without a heartbeat reply before a kernel counts as dead (it then "
        "scores as crashed). Generous, so that a busy machine does not kill live kernels.",
    ).tag(config=True)
    seal_tests = Bool(
        True,
        help="Run the guard in each kernel and trust a test's pass only with its seal "
        "(grader.engine.kernel_guard). Turn off only to measure what it costs.",
    ).tag(config=True)
    runtime = Unicode(
        "",
        help="OCI runtime of the sandbox containers, as registered with the Docker engine "
        "(daemon.json \"runtimes\"): empty is the engine's default (runc); \"runsc\" runs "
        "them under gVisor, which must be registered with --host-uds=all.",
    ).tag(config=True)
    log_max_size = Unicode(
        "1m",
        help="Docker json-file log of a sandbox is rotated at this size (Docker's form: "
        "500k, 1m). Only what a kernel writes to its file descriptors lands there; the "
        "grade and the feedback never depend on it, so it stays small.",
    ).tag(config=True)
    log_max_files = Integer(
        1, help="Rotated log files Docker keeps per sandbox (with log_max_size)."
    ).tag(config=True)
    docker_base_url = Unicode(
        "", help="Docker engine URL; empty means from the environment (DOCKER_HOST)."
    ).tag(config=True)
    max_message_size = Integer(
        64 * 1024 * 1024,
        help="Largest kernel message the grader accepts, in bytes (ZeroMQ MAXMSGSIZE, and "
        "the sum of a message's parts). A larger one stops the sandbox: that notebook's "
        "running cell and the cells after it score 0, with a message saying why.",
    ).tag(config=True)
    receive_hwm = Integer(
        8,
        help="Kernel messages the grader's ZeroMQ sockets queue before they stop reading "
        "(ZeroMQ RCVHWM): a kernel that sends faster than the grader reads waits, or "
        "loses output, in its own sandbox's memory, not in the grader's.",
    ).tag(config=True)

    @default("work_root")
    def _default_work_root(self) -> str:
        return os.path.join(tempfile.gettempdir(), "ls-sandboxes")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._docker: Any = None
        self._runtime: dict[str, Any] | None = None
        # Sandboxes started and not removed yet: close() removes whatever is left.
        self.live: set[Sandbox] = set()
        # Every socket of the grader's kernel clients gets a maximum message size and a
        # small receive queue, so what a kernel sends is held here only in bounded amounts.
        # libzmq cuts the connection on an oversized message; Sandbox._watch_connection
        # notices, so the notebook fails at once with a message instead of at a timeout.
        self.zmq_context = zmq.asyncio.Context()
        self.zmq_context.setsockopt(zmq.MAXMSGSIZE, self.max_message_size)
        self.zmq_context.setsockopt(zmq.RCVHWM, self.receive_hwm)
        Path(self.work_root).mkdir(parents=True, exist_ok=True)

    @property
    def docker(self) -> Any:
        if self._docker is None:
            try:
                if self.docker_base_url:
                    self._docker = docker.DockerClient(base_url=self.docker_base_url)
                else:
                    self._docker = docker.from_env()
            except docker.errors.DockerException as e:
                raise SandboxUnavailable(
                    f"Cannot reach the Docker engine ({e}); is dockerd running?"
                ) from e
        return self._docker

    start_attempts = Integer(
        2, help="""Sandboxes started, one after the other, before a start counts as failed
        when the kernels of one do not answer within startup_timeout (a machine busy for a
        moment; a broken image fails every attempt). 1: no second try.""",
    ).tag(config=True)

    async def start(self, kernels: int) -> Sandbox:
        attempts = max(1, self.start_attempts)
        for attempt in range(1, attempts + 1):
            sandbox = Sandbox(self, kernels)
            self.live.add(sandbox)
            try:
                await asyncio.to_thread(sandbox.create)
            except BaseException:
                await asyncio.to_thread(sandbox.remove)
                raise
            try:
                await sandbox.wait_ready(self.startup_timeout)
                return sandbox
            except SandboxError as e:
                if attempt == attempts:
                    raise
                log.warning("%s; starting another sandbox (attempt %d of %d)",
                            str(e).splitlines()[0], attempt + 1, attempts)

    def check_available(self) -> None:
        """Raise SandboxUnavailable, saying the fix, unless sandboxes can start here."""
        if os.geteuid() != 0:
            # A sandbox hands its socket folder to the learner user and takes it back once
            # the kernels are up (Sandbox.wait_ready): only root may do that.
            raise SandboxUnavailable(
                "sandboxes must be started as root, like the grader service (they hand each "
                f"sandbox's socket folder to the learner user, uid {LEARNER_UID}, and take it "
                "back): run the command as root")
        try:
            client = self.docker
            client.ping()
        except (SandboxError, docker.errors.DockerException, OSError) as e:
            raise SandboxUnavailable(
                f"the Docker engine is not reachable ({e.__cause__ or e}); start it (and "
                "build the learner image: ./studio build)") from None
        if self.runtime:
            try:
                runtimes = client.info().get("Runtimes") or {}
            except docker.errors.DockerException as e:
                raise SandboxUnavailable(
                    f"the Docker engine did not say which runtimes it has ({e})") from None
            if self.runtime not in runtimes:
                raise SandboxUnavailable(self.unknown_runtime_message(sorted(runtimes)))
            if problem := self.gvisor_problem():
                raise SandboxUnavailable(problem)
        try:
            client.images.get(self.image)
        except docker.errors.ImageNotFound:
            raise SandboxUnavailable(
                f"the learner image {self.image!r} is not built (./studio build, or set "
                "c.DockerSandbox.image in grader_config.py)") from None
        except docker.errors.DockerException as e:
            raise SandboxUnavailable(
                f"the Docker engine did not answer about image {self.image!r} ({e})") from None

    def _runtime_entry(self) -> dict[str, Any]:
        """The engine's entry for ``runtime`` (path, runtimeArgs), {} if unknown."""
        if self._runtime is None:  # cached: a changed registration counts after a restart
            try:
                runtimes = self.docker.info().get("Runtimes") or {}
            except docker.errors.DockerException:
                return {}
            if self.runtime not in runtimes:
                return {}
            self._runtime = runtimes[self.runtime]
        return self._runtime

    @property
    def gvisor(self) -> bool:
        """Whether the sandboxes run under gVisor (the runtime is Docker's runsc binary)."""
        if not self.runtime:
            return False
        path = self._runtime_entry().get("path") or self.runtime
        return "runsc" in os.path.basename(path)

    def gvisor_problem(self) -> str | None:
        """Why gVisor, as registered, cannot run sandboxes (None when it can): the kernels'
        sockets in the bind-mounted folder need host Unix sockets."""
        if not self.gvisor:
            return None
        args = self._runtime_entry().get("runtimeArgs") or []
        if any(a in ("--host-uds=all", "--host-uds=create", "--fsgofer-host-uds") for a in args):
            return None
        return (f"the runtime {self.runtime!r} (gVisor) is registered without --host-uds=all, "
                "so the kernels' sockets stay inside it and no kernel can be reached: add "
                "\"--host-uds=all\" to its runtimeArgs in /etc/docker/daemon.json (or run "
                f"`runsc install --runtime={self.runtime} -- --platform=ptrace --network=none "
                "--host-uds=all`) and reload the engine (kill -HUP $(cat /var/run/docker.pid))")

    def host_pids_limit(self, kernels: int) -> int:
        """The pids limit Docker puts on a sandbox's cgroup.

        Under gVisor the host's cgroup holds gVisor's own threads (about 40 plus 30 per
        kernel, measured) and, with the ptrace platform, a host thread for each of the
        learner's threads and a stub process per process: the limit leaves room for them,
        else the sandbox dies before its kernels answer. A fork bomb is still stopped by it.
        """
        if not self.gvisor:
            return self.pids_limit
        return 2 * self.pids_limit + GVISOR_PIDS_PER_KERNEL * kernels

    def unknown_runtime_message(self, known: list[str] | None = None) -> str:
        have = f" (it has: {', '.join(known)})" if known else ""
        hint = (
            "install gVisor (Debian: apt-get install runsc), register it with "
            "`runsc install --runtime=runsc -- --platform=ptrace --network=none "
            "--host-uds=all` (this edits /etc/docker/daemon.json) and reload the engine "
            "(kill -HUP $(cat /var/run/docker.pid), or systemctl reload docker)"
            if self.runtime == "runsc" else
            "register it under \"runtimes\" in /etc/docker/daemon.json and reload the "
            "engine (systemctl reload docker)")
        return (f"the Docker engine has no runtime {self.runtime!r}{have}, which "
                f"c.DockerSandbox.runtime names: {hint}; or set c.DockerSandbox.runtime = \"\" "
                "for the engine's default runtime")

    def remove_all(self, only_orphans: bool = True) -> int:
        """Remove sandboxes with this runner's name prefix left by grader processes of this
        host that no longer run (or all of them, ``only_orphans=False``), with their work
        directories."""
        n = 0
        for c in self.docker.containers.list(all=True, filters={"name": self.name_prefix}):
            if not c.name.startswith(self.name_prefix):
                continue
            if only_orphans and not _owner_gone(c.labels.get(OWNER_LABEL)):
                continue
            c.remove(force=True)
            shutil.rmtree(Path(self.work_root) / c.name[len(self.name_prefix):],
                          ignore_errors=True)
            n += 1
        return n


class SandboxPool(LoggingConfigurable):
    """Hands out fresh sandboxes, keeping ``warm`` of them started ahead of need."""

    warm = Integer(
        2,
        help="Sandboxes kept started (container and kernels up) ahead of need. Each serves "
        "one submission only. 0 starts a sandbox per submission on demand.",
    ).tag(config=True)
    kernels_per_sandbox = Integer(
        2,
        help="Kernels started in each warm sandbox: one per notebook of a submission. A "
        "submission with more notebooks gets a sandbox started for it.",
    ).tag(config=True)
    concurrency = Integer(
        help="Submissions graded at the same time in this process (default: CPU count)."
    ).tag(config=True)
    wall_timeout = Float(
        300.0,
        help="Seconds a whole submission may take in its sandbox; after that the sandbox is "
        "killed and the cells that did not run score as failed.",
    ).tag(config=True)
    output_limit = Integer(
        8 * 1024 * 1024,
        help="Bytes of output kept for one notebook. Output beyond it is dropped, with a "
        "note on the cell, and the cells go on running (as nbgrader grades them).",
    ).tag(config=True)
    received_limit = Integer(
        256 * 1024 * 1024,
        help="Bytes of kernel messages the grader reads for one notebook, dropped output "
        "included; beyond it the sandbox is killed (the cells not run score 0). Bounds the "
        "grader's work on an endless flood before the wall clock does.",
    ).tag(config=True)
    remove_stale = Bool(
        True,
        help="On start, remove sandbox containers left by grader processes of this host that "
        "are gone (a crash); sandboxes of running graders are left alone.",
    ).tag(config=True)

    @default("concurrency")
    def _default_concurrency(self) -> int:
        return os.cpu_count() or 1

    def __init__(self, runner: DockerSandbox | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._own_runner = runner is None
        self.runner = runner or DockerSandbox(parent=self)
        self._warm: collections.deque[asyncio.Future[Sandbox]] | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._started = False
        self._closed = False
        self._removing: set[asyncio.Future] = set()

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._warm = collections.deque()
        if self.remove_stale:
            await asyncio.to_thread(self.runner.remove_all)
        for _ in range(self.warm):
            self._refill()

    def _refill(self) -> None:
        if self._closed or self._warm is None:
            return
        task = asyncio.ensure_future(self.runner.start(self.kernels_per_sandbox))
        self._warm.append(task)

    async def wait_warm(self) -> None:
        """Wait until the warm sandboxes started so far are ready (benchmarks, tests)."""
        await self.start()
        assert self._warm is not None
        await asyncio.gather(*list(self._warm), return_exceptions=True)

    def warm_ready(self) -> int:
        """Warm sandboxes started and alive, waiting for a submission (for metrics; call it
        on the event loop). Fewer than ``warm`` for long means sandboxes fail to start."""
        ready = 0
        for task in list(self._warm or ()):
            if task.done() and not task.cancelled() and task.exception() is None:
                sandbox = task.result()
                if not sandbox.dead and not sandbox.launcher_gone:
                    ready += 1
        return ready

    @property
    def semaphore(self) -> asyncio.Semaphore:
        assert self._semaphore is not None
        return self._semaphore

    async def acquire(self, kernels: int) -> Sandbox:
        """A fresh sandbox with at least ``kernels`` kernels, used by nobody before."""
        await self.start()
        assert self._warm is not None
        if kernels <= self.kernels_per_sandbox and self.warm > 0:
            task = self._warm.popleft() if self._warm else None
            if task is not None:
                self._refill()
                try:
                    sandbox = await task
                except SandboxError as e:
                    log.warning("A warm sandbox failed to start (%s); starting another", e)
                else:
                    # A sandbox that died while it waited (engine restart, host OOM) must
                    # not cost a learner their grade.
                    if not sandbox.dead and not sandbox.launcher_gone:
                        return sandbox
                    log.warning("Warm sandbox %s died while waiting; starting another",
                                sandbox.name)
                    await self.release(sandbox)
        return await self.runner.start(max(kernels, 1))

    async def release(self, sandbox: Sandbox) -> None:
        """Remove a used sandbox; in the background, so feedback does not wait for it."""
        sandbox.stop_clients()
        task = asyncio.ensure_future(asyncio.to_thread(sandbox.remove))
        self._removing.add(task)
        task.add_done_callback(self._removing.discard)

    async def close(self) -> None:
        """Remove every sandbox this pool started (warm, in use or being removed)."""
        self._closed = True
        if self._removing:
            await asyncio.gather(*self._removing, return_exceptions=True)
        while self._warm:
            task = self._warm.popleft()
            try:
                sandbox = await task
            except Exception:  # noqa: BLE001 - it never started; start() cleaned up
                continue
            sandbox.stop_clients()
            await asyncio.to_thread(sandbox.remove)
        # anything a cancelled task left behind
        for sandbox in list(self.runner.live):
            sandbox.stop_clients()
            await asyncio.to_thread(sandbox.remove)
        if self._own_runner:
            self.runner.zmq_context.destroy(linger=0)
