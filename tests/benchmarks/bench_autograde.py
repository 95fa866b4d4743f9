"""Autograde benchmark: the sandboxed engine beside stock `nbgrader autograde`, same run.

    python tests/benchmarks/bench_autograde.py            # 50 submissions
    python tests/benchmarks/bench_autograde.py --quick    # 10 submissions

The reference assignment has two notebooks (hidden tests, a manual cell, a data file);
half the submissions are correct, half wrong. Stock nbgrader runs unsandboxed on the host
(our own fixtures only). Prints throughput, submit-to-feedback latency (p50, idle) and
ratios, checks the scores are equal cell by cell, and says where the engine's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the engine tests' notebook factory
sys.path[:0] = [str(ROOT / "tests" / "grader" / "engine")]

import nbfactory as f  # noqa: E402
from traitlets.config import Config  # noqa: E402

from grader.engine.autograde import autograde_async  # noqa: E402
from grader.engine.release import build_release  # noqa: E402
from grader.engine.sandbox import SandboxPool  # noqa: E402

PREFIX = "ls-bench-sandbox-"


def _config(seal: bool = True) -> Config:
    c = Config()
    c.DockerSandbox.name_prefix = PREFIX
    c.DockerSandbox.work_root = "/tmp/ls-bench-sandboxes"
    c.DockerSandbox.seal_tests = seal
    return c


def _nbgrader(course: Path, *args: str) -> float:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def _stock_scores(course: Path, students: list[str]) -> dict:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for s in students:
            sub = gb.find_submission("ps1", s)
            out[s] = {(nb.name, g.name): (g.auto_score, g.needs_manual_grade)
                      for nb in sub.notebooks for g in nb.grades}
    return out


def _our_scores(result) -> dict:
    return {(name, gid): (c.auto_score, c.needs_manual_grade)
            for name, nb in result.notebooks.items() for gid, c in nb.cells.items()}


def _container_cpu(sandbox) -> float | None:
    """CPU seconds a sandbox's container used (cgroup v1 cpuacct), if readable."""
    path = Path(f"/sys/fs/cgroup/cpuacct/docker/{sandbox.container.id}/cpuacct.usage")
    try:
        return int(path.read_text()) / 1e9
    except (OSError, ValueError):
        return None


async def _engine(build, subs: list[Path], warm: int, concurrency: int, singles: int,
                  seal: bool = True):
    pool = SandboxPool(config=_config(seal), warm=warm, concurrency=concurrency)
    container_cpu: list[float] = []
    release = pool.release

    async def counting_release(sandbox):
        cpu = _container_cpu(sandbox)
        if cpu is not None:
            container_cpu.append(cpu)
        await release(sandbox)

    pool.release = counting_release
    await pool.start()
    await pool.wait_warm()
    t = time.perf_counter()
    cpu0 = time.process_time()
    results = await asyncio.gather(*(autograde_async(build, s, pool) for s in subs))
    batch = time.perf_counter() - t
    grader_cpu = (time.process_time() - cpu0) / len(subs)
    sandbox_cpu = statistics.mean(container_cpu) if container_cpu else float("nan")
    latencies = []
    for i in range(singles):
        await pool.wait_warm()
        await asyncio.sleep(0.5)  # idle: nothing else running
        t = time.perf_counter()
        r = await autograde_async(build, subs[i % len(subs)], pool)
        assert all(nb.feedback_html for nb in r.notebooks.values())
        latencies.append(time.perf_counter() - t)
    t = time.perf_counter()
    sandbox = await pool.runner.start(pool.kernels_per_sandbox)
    start_one = time.perf_counter() - t
    await pool.release(sandbox)
    await pool.close()
    return results, batch, latencies, start_one, grader_cpu, sandbox_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 submissions instead of 50")
    parser.add_argument("-n", type=int, default=None, help="number of submissions")
    parser.add_argument("--warm", type=int, default=3, help="warm sandboxes")
    parser.add_argument("--concurrency", type=int, default=2, help="submissions at once")
    parser.add_argument("--singles", type=int, default=7, help="idle single submissions")
    parser.add_argument("--skip-cold", action="store_true", help="skip the warm=0 run")
    args = parser.parse_args()
    n = args.n or (10 if args.quick else 50)

    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-"))
    try:
        course = tmp / "course"
        (course).mkdir()
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n")
        source = f.reference_assignment(course / "source" / "ps1")
        _nbgrader(course, "generate_assignment", "ps1", "--force")
        student = course / "release" / "ps1"
        students = [f"s{i:03d}" for i in range(n)]
        subs = []
        for i, s in enumerate(students):
            subs.append(f.submission_from(student, course / "submitted" / s / "ps1",
                                          f.CORRECT if i % 2 == 0 else f.WRONG))
        f.submission_from(student, course / "submitted" / "single" / "ps1", f.CORRECT)
        build = build_release(source)

        print(f"== {n} submissions of 2 notebooks, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        # stock nbgrader: the batch (excluding "single"), then one student on its own
        stock_batch = _nbgrader(course, "autograde", "ps1",
                                "--CourseDirectory.student_id_exclude=single")
        stock_single = _nbgrader(course, "autograde", "ps1", "--student", "single")
        stock = _stock_scores(course, students)

        # the defences' cost: the same batch without the kernels' guard (sealed tests),
        # alternated with it (without, with, without, with) so that neither side gets the
        # quieter machine; each side's figures are the mean of its runs
        runs = {False: [], True: []}
        # a first pass warms this process (imports, caches) and is not counted
        asyncio.run(_engine(build, subs, args.warm, args.concurrency, 1))
        for seal in (False, True, False, True):
            runs[seal].append(asyncio.run(_engine(build, subs, args.warm, args.concurrency,
                                                  args.singles, seal=seal)))
        results, batch, lat, start_one, grader_cpu, sandbox_cpu = runs[True][-1]
        batch = statistics.mean(r[1] for r in runs[True])
        lat = [x for r in runs[True] for x in r[2]]
        unsealed = (runs[False][-1][0], statistics.mean(r[1] for r in runs[False]),
                    [x for r in runs[False] for x in r[2]])
        ours = {s: _our_scores(r) for s, r in zip(students, results, strict=True)}
        mismatches = [s for s in students if ours[s] != stock[s]]

        cold = None
        if not args.skip_cold:
            k = min(n, 10)
            cold = asyncio.run(_engine(build, subs[:k], 0, args.concurrency, 3))

        stock_per = stock_batch / n
        ours_per = batch / n
        p50 = statistics.median(lat)
        print(f"stock nbgrader autograde: {stock_per:.3f} s/submission in the batch "
              f"({n / stock_batch:.2f} submissions/s); single student {stock_single:.2f} s")
        print(f"engine (sandboxed, warm={args.warm}, concurrency={args.concurrency}): "
              f"{ours_per:.3f} s/submission ({n / batch:.2f} submissions/s)")
        print(f"throughput ratio engine/stock: {stock_per / ours_per:.2f}x (target >= 3x)")
        u_results, u_batch, u_lat = unsealed[:3]
        print(f"defences' cost (sealed tests, kernel guard): {u_batch / n:.3f} s/submission "
              f"without, {ours_per:.3f} s with ({ours_per / (u_batch / n):.2f}x); "
              f"submit-to-feedback p50 {statistics.median(u_lat):.3f} s without, "
              f"{statistics.median(lat):.3f} s with; unsealed ratio to stock "
              f"{stock_per / (u_batch / n):.2f}x")
        if [_our_scores(r) for r in u_results] != [ours[s] for s in students]:
            print("MISMATCH: sealed and unsealed scores differ")
        print(f"submit-to-feedback p50 idle: {p50:.3f} s (min {min(lat):.3f}, max "
              f"{max(lat):.3f}; target < 1.5 s); stock single student {stock_single:.2f} s "
              f"-> {stock_single / p50:.1f}x faster")
        print(f"scores equal to stock, cell by cell: {n - len(mismatches)}/{n}"
              + (f"  MISMATCH: {mismatches[:5]}" if mismatches else ""))
        waits = [r.timings.get("wait_sandbox", 0) for r in results]
        runs = [r.timings.get("run", 0) for r in results]
        print("where the time goes (batch, per submission): CPU in the grader process "
              f"{grader_cpu:.3f} s, CPU in the sandbox container (start-up + kernels) "
              f"{sandbox_cpu:.3f} s, plus Docker's own start/stop work; queueing for a "
              f"sandbox {statistics.mean(waits):.3f} s, running both notebooks "
              f"{statistics.mean(runs):.3f} s. Starting one sandbox (container + 2 kernels) "
              f"takes {start_one:.3f} s: warm sandboxes take it off the critical path, not "
              "off the CPUs, so the batch is CPU-bound")
        if cold is not None:
            c_results, c_batch, c_lat = cold[:3]
            k = len(c_results)
            print(f"before (warm=0, a sandbox started per submission): {c_batch / k:.3f} "
                  f"s/submission over {k}, submit-to-feedback p50 {statistics.median(c_lat):.3f} s")
        return 1 if mismatches else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
