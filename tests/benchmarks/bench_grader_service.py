"""Benchmark of the grader *service* path: submit through the hub's proxy -> queued job ->
sandboxed grading -> grade readable through the API, beside stock `nbgrader autograde`
(unsandboxed) on the same notebooks in the same run.

    python tests/benchmarks/bench_grader_service.py [--learners 16] [--sequential 6] [--runs 3]

Prints submit-to-graded latency (idle, p50) and throughput for a burst of submissions,
and the same for nbgrader, as ratios, for each run with the machine's load average beside
it (other work on the machine changes every figure; the ratio is what to compare). Needs Docker, the learner image and
configurable-http-proxy. Bounded: a fixed number of submissions, each waited for at most
180 s; everything it starts is stopped and its containers removed.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the test helpers (tests/service_support.py) are this benchmark's too
sys.path.insert(0, str(HERE.parent))

from service_support import answered, source_files, start_hub, stop_hub, write_source  # noqa: E402

PREFIX = "ls-bench-grader-"


def b64(d: bytes) -> str:
    return base64.b64encode(d).decode()


def wait(client, url: str, sub_id: int, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = client.get(f"{url}/submissions/{sub_id}").json()
        if s["status"] in ("graded", "failed"):
            return s
        time.sleep(0.05)
    raise TimeoutError(f"submission {sub_id} not graded in {timeout}s")


def bench_service(learners: int, sequential: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="bench-grader-"))
    config = f"""
c.GraderSettings.worker_count = 2
c.GraderSettings.poll_seconds = 0.05
c.DockerSandbox.name_prefix = "{PREFIX}"
c.SandboxPool.warm = 2
"""
    proc, hub = start_hub(root, config, {})
    try:
        hub.user("prof", groups=("instructors", "instructors:bench"))
        prof = hub.client(hub.token("prof"))
        prof.post(f"{hub.grader}/courses", json={"slug": "bench"})
        r = prof.post(f"{hub.grader}/courses/bench/assignments/ps1/release",
                      json={"files": {k: b64(v) for k, v in source_files().items()},
                            "check": "false"})
        assert r.status_code == 201, r.text
        clients = []
        for i in range(max(learners, sequential)):
            hub.user(f"l{i}", groups=("learners:bench",))
            clients.append(hub.client(hub.token(f"l{i}")))
        student = base64.b64decode(clients[0].get(
            f"{hub.grader}/courses/bench/assignments/ps1/release").json()["files"]["ps1.ipynb"])
        nbs = [answered(student, i % 2 == 0) for i in range(len(clients))]
        url = f"{hub.grader}/courses/bench/assignments/ps1/submissions"
        time.sleep(3)  # let the warm pool fill: "idle" means ready sandboxes
        latencies, submit_ms = [], []
        for i in range(sequential):
            t0 = time.perf_counter()
            r = clients[i].post(url, json={"files": {"ps1.ipynb": b64(nbs[i])}})
            submit_ms.append((time.perf_counter() - t0) * 1000)
            s = wait(clients[i], hub.grader, r.json()["id"])
            latencies.append(time.perf_counter() - t0)
            assert s["score"] == (2.0 if i % 2 == 0 else 0.0), s
            time.sleep(2)  # idle again: the pool refills
        t0 = time.perf_counter()
        ids = [clients[i].post(url, json={"files": {"ps1.ipynb": b64(nbs[i])}}).json()["id"]
               for i in range(learners)]
        for i, sub_id in enumerate(ids):
            s = wait(clients[i], hub.grader, sub_id)
            assert s["score"] == (2.0 if i % 2 == 0 else 0.0), s
        burst = time.perf_counter() - t0
        return {"latency_p50": statistics.median(latencies),
                "submit_ms_p50": statistics.median(submit_ms),
                "burst_seconds": burst, "burst_n": learners}
    finally:
        stop_hub(proc)
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={PREFIX}"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def bench_nbgrader(learners: int) -> dict:
    """Stock nbgrader on the same notebooks: one student alone, then the whole batch."""
    course = Path(tempfile.mkdtemp(prefix="bench-nbgrader-"))
    write_source(course / "source" / "ps1")
    (course / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.root = r"{course}"\n'
        'c.CourseDirectory.course_id = "bench"\n')

    def nbgrader(*args):
        # nbgrader runs `alembic` by name: the venv's bin must be on PATH
        env = {**os.environ,
               "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
        r = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course,
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr[-2000:]

    nbgrader("generate_assignment", "ps1")
    student = (course / "release" / "ps1" / "ps1.ipynb").read_bytes()
    for i in range(learners):
        d = course / "submitted" / f"s{i}" / "ps1"
        d.mkdir(parents=True)
        (d / "ps1.ipynb").write_bytes(answered(student, i % 2 == 0))
    t0 = time.perf_counter()
    nbgrader("autograde", "ps1", "--student", "s0")
    single = time.perf_counter() - t0
    t0 = time.perf_counter()
    nbgrader("autograde", "ps1")
    batch = time.perf_counter() - t0
    return {"single": single, "batch_seconds": batch, "batch_n": learners}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--learners", type=int, default=16)
    p.add_argument("--sequential", type=int, default=6)
    p.add_argument("--runs", type=int, default=1, help="repeat the whole comparison (max 5)")
    args = p.parse_args()
    ratios = []
    for run in range(1, min(max(args.runs, 1), 5) + 1):
        load = os.getloadavg()
        print(f"run {run}: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"({os.cpu_count()} cores)", flush=True)
        ratios.append(compare(args))
        load = os.getloadavg()
        print(f"  load average after the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
              flush=True)
    if len(ratios) > 1:
        print("throughput ratios (service / nbgrader) per run: "
              + ", ".join(f"{r:.2f}x" for r in ratios))


def compare(args) -> float:
    stock = bench_nbgrader(args.learners)
    ours = bench_service(args.learners, args.sequential)
    ours_tp = ours["burst_n"] / ours["burst_seconds"]
    stock_tp = stock["batch_n"] / stock["batch_seconds"]
    print(f"service  submit API call p50          {ours['submit_ms_p50']:8.1f} ms")
    print(f"service  submit-to-graded p50 (idle)  {ours['latency_p50']:8.2f} s")
    print(f"nbgrader autograde one student        {stock['single']:8.2f} s")
    print(f"  ratio (nbgrader / service)          {stock['single'] / ours['latency_p50']:8.2f}x")
    print(f"service  burst of {ours['burst_n']:3d} submissions    {ours['burst_seconds']:8.2f} s "
          f"({ours_tp:.2f}/s)")
    print(f"nbgrader autograde {stock['batch_n']:3d} students      {stock['batch_seconds']:8.2f} s "
          f"({stock_tp:.2f}/s)")
    print(f"  throughput ratio (service / nbgrader) {ours_tp / stock_tp:6.2f}x", flush=True)
    return ours_tp / stock_tp


if __name__ == "__main__":
    main()
