#!/usr/bin/env python
"""Capacity benchmark: how many learners working at once one machine serves.

A class at work, simulated: for each level N (for example 10, 25, 50), N learners at once,
each of them
  - signs in on the site (its login form, then the single sign-on into the hub),
  - has their server spawned (the hub's progress stream followed to ready),
  - fetches an assignment into their home through the JupyterLab extension's API,
  - runs a small realistic cell in their own kernel every few seconds,
  - opens the site's course pages as a signed-in learner now and then,
  - checks (runs the notebook's visible tests in their kernel) and submits, twice over the
    run, and waits for the grader's feedback.
For each level it reports spawn failures, the p50/p95 cell round trip, the p95
submit-to-feedback time, the site's p95 page time for signed-in learners, and the host's
peak memory in use and mean CPU; then the largest N that kept the p95 cell round trip under
1 s with no failure.

The same workload, without the site and the grading (stock has neither), runs against a
stock JupyterHub + DockerSpawner (tests/benchmarks/stock/) in the same run, as the ratio
stock/ours of the cell round trip.

Bounded: --duration seconds of work per level (at most 600), --levels at most 200 learners,
everything on loopback and the stack's own Docker networks; what it starts it removes
(by its name prefix) when it ends.

    .venv/bin/python tests/benchmarks/bench_capacity.py [--levels 10,25] [--duration 60]
        [--cell-every 3] [--no-stock]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/stack.py, the tests' own helpers
sys.path.insert(0, str(HERE))

import docker  # noqa: E402
import requests  # noqa: E402
import websocket  # noqa: E402  (websocket-client)
from bench_spawn import STOCK_IMAGE, build_stock_image, pct  # noqa: E402
from stack import (  # noqa: E402
    ROOT,
    VENV_BIN,
    Stack,
    free_port,
    release_homes,
    remove_by_prefix,
    site_sign_in,
)

COURSE = "python-foundations"
ASSIGNMENT = "ps02-lists-and-loops"
PASSWORD = "capacity-bench-pw-1"
# A small computation of the kind a first course runs: a comprehension, a sort, a sum.
CELL = ("data = [(i * 7919) % 1000 for i in range(20000)]\n"
        "top = sorted(data)[-5:]\n"
        "print(sum(top), len(set(data)))")


# --- the host ---------------------------------------------------------------------------
class HostSampler(threading.Thread):
    """Samples the machine's memory in use and CPU busy share once a second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop_event = threading.Event()
        self.mem_used: list[float] = []
        self.cpu_busy: list[float] = []
        self.baseline = self._mem_used_gib()  # before the level's learners arrive

    @staticmethod
    def _mem_used_gib() -> float:
        info = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, value = line.split(":", 1)
            info[key] = int(value.split()[0])
        return (info["MemTotal"] - info["MemAvailable"]) / 1024 / 1024

    @staticmethod
    def _cpu_times() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def run(self) -> None:
        busy0, total0 = self._cpu_times()
        while not self.stop_event.wait(1.0):
            busy1, total1 = self._cpu_times()
            if total1 > total0:
                self.cpu_busy.append(100.0 * (busy1 - busy0) / (total1 - total0))
            busy0, total0 = busy1, total1
            self.mem_used.append(self._mem_used_gib())

    def stop(self) -> dict:
        self.stop_event.set()
        self.join(5)
        return {"mem_peak_gib": max(self.mem_used, default=float("nan")),
                "mem_added_gib": max(self.mem_used, default=self.baseline) - self.baseline,
                "cpu_mean": sum(self.cpu_busy) / len(self.cpu_busy) if self.cpu_busy
                else float("nan")}


# --- one learner ------------------------------------------------------------------------
class Kernel:
    """A kernel on a learner's server and one open websocket to it."""

    def __init__(self, server_url: str, token: str) -> None:
        self.server_url, self.headers = server_url, {"Authorization": f"token {token}"}
        r = requests.post(f"{server_url}api/kernels", json={"name": "python3"},
                          headers=self.headers, timeout=60)
        r.raise_for_status()
        self.kernel_id = r.json()["id"]
        ws_url = server_url.replace("http://", "ws://") + f"api/kernels/{self.kernel_id}/channels"
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"],
                                              timeout=60)
        self.session = secrets.token_hex(8)

    def run(self, code: str, timeout: float = 60) -> tuple[str, str | None]:
        """Execute code; (stdout, error name or None)."""
        msg_id = secrets.token_hex(8)
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "bench",
                       "session": self.session, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False},
        }))
        out, error = [], None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                error = msg["content"]["ename"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out), error
        raise TimeoutError("no answer from the kernel")

    def close(self) -> None:
        try:
            self.ws.close()
            requests.delete(f"{self.server_url}api/kernels/{self.kernel_id}",
                            headers=self.headers, timeout=10)
        except (OSError, requests.RequestException):
            pass


class Learner(threading.Thread):
    def __init__(self, setup: Setup, name: str, start_at: float, args) -> None:
        super().__init__(daemon=True)
        self.setup, self.name, self.start_at, self.args = setup, name, start_at, args
        self.spawn_s: float | None = None
        self.cells: list[float] = []
        self.cell_errors = 0
        self.pages: list[float] = []
        self.feedback: list[float] = []
        self.failure: str | None = None

    def run(self) -> None:
        try:
            self._work()
        except Exception as e:  # noqa: BLE001 - counted and reported per level
            self.failure = f"{self.name}: {type(e).__name__}: {e}"[:300]

    def _work(self) -> None:
        setup, args = self.setup, self.args
        site = setup.sign_in(self.name)
        token = setup.stack.user_token(self.name)
        t0 = time.perf_counter()
        setup.stack.spawn(self.name, timeout=300)
        self.spawn_s = time.perf_counter() - t0
        url = setup.server_url(self.name)
        h = {"Authorization": f"token {token}"}
        notebook = setup.fetch(url, h)
        tests = setup.visible_tests(url, h, notebook) if notebook else []
        kernel = Kernel(url, token)
        try:
            end = self.start_at + args.duration
            submit_at = [self.start_at + args.duration * f for f in (0.3, 0.65)] if notebook \
                else []
            next_page = time.monotonic() + args.cell_every * 2
            while time.monotonic() < end:
                t = time.perf_counter()
                _, error = kernel.run(CELL)
                self.cells.append(time.perf_counter() - t)
                self.cell_errors += error is not None
                if site is not None and time.monotonic() >= next_page:
                    for path in ("/courses/", f"/courses/{COURSE}/"):
                        t = time.perf_counter()
                        r = site.get(f"{setup.public}{path}", timeout=30)
                        self.pages.append(time.perf_counter() - t)
                        if r.status_code != 200:
                            raise RuntimeError(f"site page {path} answered {r.status_code}")
                    next_page = time.monotonic() + args.cell_every * 4
                if submit_at and time.monotonic() >= submit_at[0]:
                    submit_at.pop(0)
                    for source in tests:  # Check: the visible tests, in the learner's kernel
                        kernel.run(source)
                    self.feedback.append(setup.submit_and_wait(url, h))
                time.sleep(args.cell_every)
        finally:
            kernel.close()


# --- the two setups ---------------------------------------------------------------------
class Setup:
    label = ""
    public = ""

    def __init__(self) -> None:
        self.stack: Stack

    def sign_in(self, name: str) -> requests.Session | None:
        return None

    def server_url(self, name: str) -> str:
        return self.stack.server_url(name)

    def fetch(self, url: str, h: dict) -> str | None:
        return None

    def visible_tests(self, url: str, h: dict, notebook: str) -> list[str]:
        return []

    def submit_and_wait(self, url: str, h: dict) -> float:
        raise NotImplementedError

    def add_learners(self, names: list[str]) -> None:
        raise NotImplementedError

    def stop_servers(self, names: list[str]) -> None:
        for name in names:
            try:
                self.stack.admin("DELETE", f"users/{name}/server")
            except requests.RequestException:
                pass
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            users = self.stack.admin("GET", "users").json()
            if not any(u["servers"] for u in users if u["name"] in names):
                return
            time.sleep(1)


class Ours(Setup):
    """The compose stack as `./studio up` runs it (site, hub with its grader, proxy)."""

    label = "ours"

    def __init__(self, workdir: Path) -> None:
        tag = secrets.token_hex(3)
        self.prefix = f"lscap{tag}"
        self.env = {
            **os.environ,
            "STUDIO_COMPOSE_PROJECT": self.prefix, "STUDIO_PREFIX": self.prefix,
            "STUDIO_ENV_FILE": str(workdir / "studio.env"),
            "STUDIO_PORT": str(free_port()), "STUDIO_PROXY_API_PORT": str(free_port()),
            "STUDIO_HUB_PORT": str(free_port()), "STUDIO_CMS_PORT": str(free_port()),
            "STUDIO_GRADER_PORT": str(free_port()), "STUDIO_IDLE_TIMEOUT": "0",
            "STUDIO_HOMES_DIR": str(workdir / "homes"),
        }
        self.port = self.env["STUDIO_PORT"]
        self.public = f"http://localhost:{self.port}"
        self.grader = f"http://grader--service.localhost:{self.port}/services/grader/api"

    def start(self) -> None:
        print("[ours] ./studio up (the compose stack, demo courses loaded)...", flush=True)
        p = subprocess.run([str(ROOT / "studio"), "up"], env=self.env, capture_output=True,
                           text=True, timeout=900)
        if p.returncode:
            raise SystemExit(f"./studio up failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        token = next(line.strip().split("=", 1)[1] for line in open(self.env["STUDIO_ENV_FILE"])
                     if line.startswith("STUDIO_ADMIN_TOKEN="))
        # Stack's hub-API helpers (tokens, spawn, progress stream) against the compose hub
        self.stack = Stack(Path(self.env["STUDIO_HOMES_DIR"]).parent, prefix=self.prefix)
        self.stack.port = int(self.port)
        self.stack.admin_token = token
        self.stack.env["STUDIO_HOMES_DIR"] = self.env["STUDIO_HOMES_DIR"]
        self.cms = next(c for c in docker.from_env().containers.list(
            filters={"label": [f"com.docker.compose.project={self.prefix}",
                               "com.docker.compose.service=cms"]}))

    def add_learners(self, names: list[str]) -> None:
        """Site accounts enrolled in the course, made the way an admin's script would."""
        script = (
            "from studio_site.accounts.models import User\n"
            "from studio_site.catalogue.models import CoursePage, Enrolment\n"
            f"course = CoursePage.objects.get(course_id={COURSE!r})\n"
            f"for name in {names!r}:\n"
            "    u, _ = User.objects.get_or_create(username=name, defaults={'email': name + '@bench.localhost'})\n"
            f"    u.is_active = True; u.email_verified = True; u.set_password({PASSWORD!r}); u.save()\n"
            "    Enrolment.objects.get_or_create(user=u, course=course, role=Enrolment.LEARNER)\n"
        )
        code, out = self.cms.exec_run(["cms-entrypoint", "manage", "shell", "-c", script])
        if code:
            raise SystemExit(f"creating the site's learners failed:\n{out.decode()[-2000:]}")

    def sign_in(self, name: str) -> requests.Session:
        return site_sign_in(self.public, name, PASSWORD)

    def fetch(self, url: str, h: dict) -> str | None:
        r = requests.post(f"{url}learning-studio/courses/{COURSE}/assignments/{ASSIGNMENT}/fetch",
                          json={}, headers=h, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"fetch answered {r.status_code}: {r.text[:200]}")
        body = r.json()
        notebooks = [n for n in body["written"] + body["unchanged"] if n.endswith(".ipynb")]
        return f"{body['path']}/{notebooks[0]}" if notebooks else None

    def visible_tests(self, url: str, h: dict, notebook: str) -> list[str]:
        r = requests.get(f"{url}api/contents/{notebook}", headers=h, timeout=30)
        r.raise_for_status()
        cells = r.json()["content"]["cells"]
        # the visible tests: nbgrader's autograded test cells of the student version
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                and not c["metadata"]["nbgrader"].get("solution")]

    def submit_and_wait(self, url: str, h: dict) -> float:
        t0 = time.perf_counter()
        r = requests.post(
            f"{url}learning-studio/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions",
            json={}, headers=h, timeout=120)
        if r.status_code != 201:
            raise RuntimeError(f"submit answered {r.status_code}: {r.text[:200]}")
        sid = r.json()["id"]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            s = requests.get(f"{url}learning-studio/submissions/{sid}", headers=h,
                             timeout=30).json()
            if s.get("status") == "graded":
                return time.perf_counter() - t0
            if s.get("status") == "failed":
                raise RuntimeError(f"submission {sid} failed: {s.get('job')}")
            time.sleep(0.5)
        raise TimeoutError(f"submission {sid} not graded within 600 s")

    def stop(self) -> None:
        subprocess.run([str(ROOT / "studio"), "down"], env=self.env, capture_output=True)
        client = docker.from_env()
        remove_by_prefix(client, self.prefix)
        release_homes(client, self.env["STUDIO_HOMES_DIR"],
                      os.environ.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest"))
        # the stack's named volumes (the site's and the hub's data), by the project's name
        for volume in client.volumes.list(filters={"name": f"{self.prefix}_"}):
            if volume.name.startswith(f"{self.prefix}_"):
                volume.remove(force=True)


class Stock(Setup):
    """Stock JupyterHub + DockerSpawner as its documentation configures it."""

    label = "stock"

    def __init__(self, workdir: Path) -> None:
        stock_cmd = [str(VENV_BIN / "jupyterhub"), "-f", str(HERE / "stock" / "jupyterhub_config.py")]
        self.stack = Stack(workdir, hub_command=stock_cmd, host_routing=False,
                           prefix=f"lscaps{secrets.token_hex(2)}")
        self.public = self.stack.public_url

    def start(self) -> None:
        print("[stock] JupyterHub + DockerSpawner...", flush=True)
        build_stock_image()
        net = self.stack.docker.networks.create(f"{self.stack.prefix}-stock", driver="bridge")
        net.reload()
        self.stack.env.update(STOCK_IMAGE=STOCK_IMAGE, STOCK_NETWORK=net.name,
                              STOCK_GATEWAY=net.attrs["IPAM"]["Config"][0]["Gateway"])
        self.stack.start_proxy()
        self.stack.start_hub()

    def server_url(self, name: str) -> str:
        return f"{self.stack.public_url}/user/{name}/"

    def add_learners(self, names: list[str]) -> None:
        for name in names:
            self.stack.admin("POST", f"users/{name}")

    def stop(self) -> None:
        self.stack.close()


# --- a level ----------------------------------------------------------------------------
def run_level(setup: Setup, n: int, args, round_no: int) -> dict:
    names = [f"cap{round_no}x{i:03d}" for i in range(n)]
    setup.add_learners(names)
    sampler = HostSampler()
    sampler.start()
    start_at = time.monotonic()
    learners = [Learner(setup, name, start_at, args) for name in names]
    for learner in learners:
        learner.start()
    for learner in learners:
        learner.join(args.duration + 900)
    host = sampler.stop()
    setup.stop_servers(names)
    cells = [c for learner in learners for c in learner.cells]
    failures = [learner.failure for learner in learners if learner.failure]
    result = {
        "n": n,
        "failures": len(failures) + sum(learner.cell_errors for learner in learners),
        "spawn_p95": pct([x.spawn_s for x in learners if x.spawn_s is not None], 0.95),
        "cell_p50": pct(cells, 0.5), "cell_p95": pct(cells, 0.95), "cells": len(cells),
        "feedback_p95": pct([f for x in learners for f in x.feedback], 0.95),
        "submissions": sum(len(x.feedback) for x in learners),
        "page_p95_ms": pct([p for x in learners for p in x.pages], 0.95) * 1000,
        **host,
        "failure_detail": failures[:3],
    }
    graded = (f", feedback p95 {result['feedback_p95']:.1f}s ({result['submissions']} "
              f"submissions), site page p95 {result['page_p95_ms']:.0f} ms"
              if result["submissions"] else "")
    print(f"  [{setup.label}] N={n}: {result['failures']} failures, spawn p95 "
          f"{result['spawn_p95']:.2f}s, cell p50 {result['cell_p50']:.3f}s p95 "
          f"{result['cell_p95']:.3f}s ({len(cells)} cells){graded}, memory in use "
          f"{host['mem_peak_gib']:.1f} GiB at peak (+{host['mem_added_gib']:.2f} GiB for the "
          f"level), CPU {host['cpu_mean']:.0f}% busy", flush=True)
    for f in failures[:3]:
        print(f"    failure: {f}", flush=True)
    return result


def run_setup(cls, levels: list[int], args) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="ls-capacity-") as d:
        setup = cls(Path(d))
        results = []
        try:
            setup.start()
            for round_no, n in enumerate(levels):
                results.append(run_level(setup, n, args, round_no))
                if results[-1]["failures"] and not args.keep_going:
                    print(f"  [{setup.label}] stopping at N={n}: failures", flush=True)
                    break
        finally:
            setup.stop()
        return results


def largest_ok(results: list[dict]) -> int:
    ok = [r["n"] for r in results if not r["failures"] and r["cell_p95"] < 1.0]
    return max(ok, default=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="10,25", help="learners at once, comma-separated")
    ap.add_argument("--duration", type=int, default=60, help="seconds of work per level")
    ap.add_argument("--cell-every", type=float, default=3.0,
                    help="seconds between one learner's cells")
    ap.add_argument("--no-stock", action="store_true", help="skip the stock comparison")
    ap.add_argument("--keep-going", action="store_true",
                    help="go on to the next level after a level with failures")
    args = ap.parse_args()
    levels = [int(x) for x in re.split(r"[,\s]+", args.levels.strip()) if x]
    if not levels or max(levels) > 200 or min(levels) < 1:
        raise SystemExit("--levels: between 1 and 200 learners per level")
    args.duration = max(20, min(args.duration, 600))
    load = os.getloadavg()
    print(f"capacity benchmark: levels {levels}, {args.duration}s each, a cell every "
          f"{args.cell_every:g}s; machine: {os.cpu_count()} cores, load {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}", flush=True)
    ours = run_setup(Ours, levels, args)
    stock = [] if args.no_stock else run_setup(Stock, levels, args)
    print(f"\n{'setup':6} {'N':>4} {'fail':>5} {'spawn p95 s':>11} {'cell p50 s':>10} "
          f"{'cell p95 s':>10} {'feedback p95 s':>14} {'page p95 ms':>11} {'+mem GiB':>8} "
          f"{'GiB/learner':>11} {'CPU %':>6}")
    for label, results in (("ours", ours), ("stock", stock)):
        for r in results:
            print(f"{label:6} {r['n']:4d} {r['failures']:5d} {r['spawn_p95']:11.2f} "
                  f"{r['cell_p50']:10.3f} {r['cell_p95']:10.3f} {r['feedback_p95']:14.1f} "
                  f"{r['page_p95_ms']:11.0f} {r['mem_added_gib']:8.2f} "
                  f"{r['mem_added_gib'] / r['n']:11.3f} {r['cpu_mean']:6.0f}")
    by_n = {r["n"]: r for r in stock}
    for r in ours:
        s = by_n.get(r["n"])
        if s and r["cell_p95"]:
            print(f"N={r['n']}: cell p95 ratio stock/ours {s['cell_p95'] / r['cell_p95']:.2f}, "
                  f"spawn p95 ratio {s['spawn_p95'] / r['spawn_p95']:.2f}")
    print(f"\nlargest N with p95 cell round trip under 1 s and no failure: ours "
          f"{largest_ok(ours)}" + ("" if args.no_stock else f", stock {largest_ok(stock)}")
          + " (ratio = stock p95 / ours: above 1 means ours is faster)")


if __name__ == "__main__":
    main()
