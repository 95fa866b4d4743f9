"""Run the grader service in a container of its own, under its own memory limit.

The hub runs the grader as a managed service. With ``STUDIO_GRADER_MEM_LIMIT`` set, the
command it runs is this module: it starts the grader's command in a sibling container of
the hub's own image, with the hub's mounts (``--volumes-from``), the host's network (as the
hub), the hub's process namespace (so the grader's sandbox-ownership checks see the same
process ids, and the grader ends when the hub does) and a memory limit without swap. It
passes its environment (what the hub gives a managed service: tokens, URLs, the grader's
settings) and the grader's log through, and exits with the grader's status.

So a submission that makes the grader run out of memory kills only the grader's container,
not the hub. The hub restarts an exited service; the job that was running is claimed
again when its lease runs out, and marked failed after its attempts, and the next
submissions are graded.

    python -m hub.grader_container --mem-limit 2g --name studio-grader -- python -m grader serve ...

Imports only the standard library and docker: the grader itself is not imported here.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from typing import Any

import docker
import docker.errors

# Environment of the launcher that stays with it (the container has its own).
_KEEP_OUT = {"HOSTNAME", "HOME", "PWD", "SHLVL", "_", "OLDPWD"}

_CONTAINER_ID = re.compile(r"/(?:docker/)?containers/([0-9a-f]{64})/")


def own_container_id() -> str | None:
    """The id of the Docker container this process runs in, or None (not in one).

    Read from /proc/self/mountinfo (Docker bind-mounts the container's own hostname and
    hosts files from /var/lib/docker/containers/<id>/), which also works on cgroup v2 and
    with the host's network, where the hostname is the host's."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    for line in text.splitlines():
        if " /etc/hostname " in line or " /etc/hosts " in line:
            m = _CONTAINER_ID.search(line)
            if m:
                return m.group(1)
    return None


def run(command: list[str], *, mem_limit: str, name: str, client: Any = None,
        host_id: str | None = None, out: Any = None, log_max_size: str = "10m",
        log_max_files: int = 5) -> int:
    """Run ``command`` in a sibling container; return its exit status. Its Docker log
    (json-file) is rotated at ``log_max_size``, ``log_max_files`` files kept."""
    out = out or sys.stdout
    host_id = host_id or own_container_id()
    if host_id is None:
        print("hub.grader_container: this process is not in a Docker container, so the "
              "grader cannot get a container beside it: unset STUDIO_GRADER_MEM_LIMIT to run "
              "the grader in the hub's process tree", file=sys.stderr)
        return 2
    client = client or docker.from_env()
    hub = client.containers.get(host_id)
    try:  # a container of that name left by a hub that was killed
        client.containers.get(name).remove(force=True)
    except docker.errors.NotFound:
        pass
    env = {k: v for k, v in os.environ.items() if k not in _KEEP_OUT}
    container = client.containers.run(
        hub.image.id, command=command, name=name, detach=True, environment=env,
        working_dir=os.getcwd(), volumes_from=[host_id], network_mode="host",
        pid_mode=f"container:{host_id}", mem_limit=mem_limit, memswap_limit=mem_limit,
        labels={"learning-studio.role": "grader", "learning-studio.hub": host_id},
        log_config={"type": "json-file",
                    "config": {"max-size": log_max_size, "max-file": str(log_max_files)}},
    )

    def stop(signum: int, frame: Any) -> None:
        # the hub stops its service: stop the grader in turn (it has 10 s to finish)
        try:
            container.stop(timeout=10)
        except docker.errors.APIError:
            pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def follow() -> None:
        for chunk in container.logs(stream=True, follow=True):
            out.write(chunk.decode("utf-8", "replace"))
            out.flush()

    threading.Thread(target=follow, daemon=True).start()
    try:
        status = container.wait()["StatusCode"]
        container.reload()
        if container.attrs["State"].get("OOMKilled"):
            print(f"hub.grader_container: the grader ran out of memory (limit {mem_limit}, "
                  "STUDIO_GRADER_MEM_LIMIT) and was stopped; the hub starts it again and the "
                  "job it was grading is retried, then marked failed", file=sys.stderr,
                  flush=True)
    finally:
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass
    return status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.grader_container",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--mem-limit", required=True, help="Docker memory limit, e.g. 2g")
    parser.add_argument("--name", required=True, help="name of the grader's container")
    parser.add_argument("--log-max-size", default="10m",
                        help="rotate the container's log at this size (STUDIO_LOG_MAX_SIZE)")
    parser.add_argument("--log-max-files", type=int, default=5,
                        help="rotated log files kept (STUDIO_LOG_MAX_FILES)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the grader's command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the grader's command after --")
    sys.exit(run(command, mem_limit=args.mem_limit, name=args.name,
                 log_max_size=args.log_max_size, log_max_files=args.log_max_files))


if __name__ == "__main__":
    main()
