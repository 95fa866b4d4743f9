#!/usr/bin/env python
"""Backup and restore benchmark: `./studio backup` and `./studio restore` of a demo stack
with 20 learners, each with a home of a few MB (notebooks and a data file) and a
submission to the grader.

Prints the archive's size, the seconds of the backup (and how long the databases were
held by SQLite's backup API: the only pause writers see), and of the restore (unpacking
the volumes alone, and with the stack's start after it).

    .venv/bin/python tests/benchmarks/bench_backup.py [--learners 20] [--home-mb 4]

It brings up its own stack (unique project, prefix and ports) and removes it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/stack.py, the tests' own helpers

import requests  # noqa: E402
from stack import ROOT, free_port, remove_by_prefix, wait_for  # noqa: E402

HUB_IMAGE = os.environ.get("STUDIO_HUB_IMAGE", "learning-studio/hub:latest")
COURSE = "python-foundations"


def studio(env: dict, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    p = subprocess.run([str(ROOT / "studio"), *args], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    took = time.monotonic() - started
    if p.returncode != 0:
        raise SystemExit(f"./studio {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    return p, took


def fill_home(volume: str, megabytes: int) -> None:
    """A learner's home as the spawner leaves it (owned by uid 1000): a data file of random
    bytes (incompressible, the worst case) and a few notebooks."""
    script = (
        "set -e; mkdir -p /h/courses/python-foundations/data; "
        f"head -c {megabytes}M /dev/urandom > /h/courses/python-foundations/data/sample.bin; "
        "for i in 1 2 3 4 5; do printf '{\"cells\": [], \"metadata\": {}, \"nbformat\": 4, "
        "\"nbformat_minor\": 5, \"n\": %s}' $i > /h/courses/python-foundations/nb$i.ipynb; done; "
        "chown -R 1000:1000 /h")
    subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh",
                    "-v", f"{volume}:/h", HUB_IMAGE, "-c", script], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--learners", type=int, default=20)
    ap.add_argument("--home-mb", type=int, default=4)
    args = ap.parse_args()

    tag = secrets.token_hex(3)
    work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    env = {**os.environ, "STUDIO_COMPOSE_PROJECT": f"lstbb{tag}", "STUDIO_PREFIX": f"lstbb{tag}",
           "STUDIO_ENV_FILE": str(work / "studio.env"), "STUDIO_IDLE_TIMEOUT": "0",
           **{k: str(free_port()) for k in (
               "STUDIO_PORT", "STUDIO_PROXY_API_PORT", "STUDIO_HUB_PORT", "STUDIO_CMS_PORT",
               "STUDIO_GRADER_PORT", "STUDIO_GRADER_METRICS_PORT")}}
    env.pop("STUDIO_MONITORING", None)
    port = env["STUDIO_PORT"]
    api = f"http://127.0.0.1:{port}/hub/api"
    grader = f"http://grader--service.localhost:{port}/services/grader/api"
    try:
        print(f"bringing up a demo stack ({env['STUDIO_COMPOSE_PROJECT']})...", flush=True)
        studio(env, "up")
        token = next(line.strip().split("=", 1)[1] for line in open(env["STUDIO_ENV_FILE"])
                     if line.startswith("STUDIO_ADMIN_TOKEN="))
        admin = {"Authorization": f"token {token}"}
        names = [f"learner{n:02d}" for n in range(1, args.learners + 1)]
        r = requests.post(f"{api}/users", headers=admin, json={"usernames": names}, timeout=60)
        assert r.status_code in (201, 409), r.text
        first = None
        for name in names:
            fill_home(f"{env['STUDIO_PREFIX']}-home-{name}", args.home_mb)
            r = requests.post(f"{grader}/courses/{COURSE}/enrollments", headers=admin,
                              json={"username": name}, timeout=30)
            assert r.status_code in (200, 201, 409), r.text
            r = requests.post(f"{api}/users/{name}/tokens", headers=admin, json={}, timeout=10)
            h = {"Authorization": f"token {r.json()['token']}"}
            if first is None:
                first = sorted(a["assignment"] for a in requests.get(
                    f"{grader}/courses/{COURSE}/assignments", headers=h, timeout=30).json())[0]
            release = requests.get(f"{grader}/courses/{COURSE}/assignments/{first}/release",
                                   headers=h, timeout=30).json()
            files = {p: b for p, b in release["files"].items() if p.endswith(".ipynb")}
            r = requests.post(f"{grader}/courses/{COURSE}/assignments/{first}/submissions",
                              headers=h, json={"files": files}, timeout=60)
            assert r.status_code == 201, r.text

        def queue_empty():
            counts = requests.get(f"{grader}/queue", headers=admin, timeout=30).json()["counts"]
            return not counts.get("queued") and not counts.get("running")

        try:
            wait_for(queue_empty, 900, "the submissions graded", interval=5)
        except TimeoutError:
            print("(grading not finished; backing up with jobs in the queue)")
        print(f"{args.learners} learners, {args.home_mb} MB home each, one submission each")

        archive = work / "bench.tar"
        backup, backup_s = studio(env, "backup", str(archive))
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        held = sum(d["seconds"] for d in manifest["databases"])
        db_bytes = sum(d["bytes"] for d in manifest["databases"])
        print(f"backup:  {backup_s:6.1f} s  archive {archive.stat().st_size / 2**20:.1f} MB "
              f"({len(manifest['volumes'])} volumes, {db_bytes / 2**20:.1f} MB of SQLite); "
              f"databases held {held:.3f} s in all")

        studio(env, "down")
        gone = [v for v in subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True,
                                          text=True).stdout.split()
                if v.startswith((f"{env['STUDIO_COMPOSE_PROJECT']}_", f"{env['STUDIO_PREFIX']}-"))]
        subprocess.run(["docker", "volume", "rm", *gone], check=True, capture_output=True)
        restore, restore_s = studio(env, "restore", "--yes", str(archive))
        unpack = re.search(r"restored \d+ volumes and the env file in ([0-9.]+) s", restore.stderr)
        print(f"restore: {restore_s:6.1f} s with the stack's start "
              f"(volumes and env file: {unpack.group(1) if unpack else '?'} s)")
        assert requests.get(f"{api}/users/{names[-1]}", headers=admin, timeout=10).ok
    finally:
        subprocess.run([str(ROOT / "studio"), "down"], env=env, capture_output=True)
        project = env["STUDIO_COMPOSE_PROJECT"]
        subprocess.run(["docker", "volume", "rm", "-f", f"{project}_hub-data",
                        f"{project}_cms-data"], capture_output=True)
        import docker

        remove_by_prefix(docker.from_env(), env["STUDIO_PREFIX"])
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
