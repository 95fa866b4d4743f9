"""gVisor's cost: grading under ``runsc`` beside Docker's default runtime (runc), same run.

    python tests/benchmarks/bench_gvisor.py            # 10 rounds
    python tests/benchmarks/bench_gvisor.py -n 30      # more rounds (at most 50)

Needs root, the learner image and gVisor registered with Docker as ``runsc`` (./studio test
does both; docs/grader-operator.md). Each round measures, for each runtime in turn so that
load on a shared machine falls on both alike:

- sandbox start: a container with 2 kernels, until both kernels answer;
- a submission graded with a warm sandbox (the service's usual case, warm >= 1);
- a submission graded with a sandbox started for it (warm = 0, or a burst past the warm ones);
- CPU seconds and peak memory of each sandbox's cgroup (cgroup v1, when readable).

The reference assignment (two notebooks, hidden tests, a data file), correct and wrong
submissions alternating. Prints mean, p50 and p95 per runtime and the ratio runsc/default,
and checks that both runtimes give the same scores, cell by cell.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
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
from grader.engine.sandbox import SandboxPool, SandboxUnavailable  # noqa: E402

PREFIX = "ls-bench-gvisor-"
RUNTIMES = {"default (runc)": "", "gVisor (runsc)": "runsc"}
MAX_ROUNDS = 50


def _config(runtime: str) -> Config:
    c = Config()
    c.DockerSandbox.name_prefix = PREFIX
    c.DockerSandbox.work_root = "/tmp/ls-bench-gvisor"
    c.DockerSandbox.runtime = runtime
    c.SandboxPool.remove_stale = False
    return c


def _cgroup(sandbox) -> tuple[float | None, float | None]:
    """(CPU seconds, peak memory MiB) of a sandbox's cgroup (v1), if readable."""
    cid = sandbox.container.id
    out: list[float | None] = []
    for path, scale in ((f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage", 1e9),
                        (f"/sys/fs/cgroup/memory/docker/{cid}/memory.max_usage_in_bytes",
                         2**20)):
        try:
            out.append(int(Path(path).read_text()) / scale)
        except (OSError, ValueError):
            out.append(None)
    return out[0], out[1]


class Measured:
    """Pools of one runtime and what was measured with them."""

    def __init__(self, runtime: str):
        self.runtime = runtime
        self.warm = SandboxPool(config=_config(runtime), warm=1, concurrency=1)
        self.cold = SandboxPool(config=_config(runtime), warm=0, concurrency=1)
        self.samples: dict[str, list[float]] = {
            "sandbox start, 2 kernels (s)": [], "graded, warm sandbox (s)": [],
            "graded, sandbox started for it (s)": [], "sandbox CPU (s)": [], "sandbox peak memory (MiB)": []}
        self.scores: list[dict] = []
        self.removals: list[asyncio.Task] = []
        for pool in (self.warm, self.cold):
            pool.release = self._releaser(pool)

    def _releaser(self, pool: SandboxPool):
        async def release(sandbox):
            cpu, mem = await asyncio.to_thread(_cgroup, sandbox)
            if cpu is not None:
                self.samples["sandbox CPU (s)"].append(cpu)
            if mem is not None:
                self.samples["sandbox peak memory (MiB)"].append(mem)
            sandbox.stop_clients()
            # removed before the next measurement starts (quiet machine for each)
            self.removals.append(asyncio.ensure_future(asyncio.to_thread(sandbox.remove)))
        return release

    async def quiet(self) -> None:
        await asyncio.gather(*self.removals)
        self.removals.clear()
        await self.warm.wait_warm()
        await asyncio.sleep(0.3)

    async def round(self, build, sub: Path) -> None:
        await self.quiet()
        t = time.perf_counter()
        sandbox = await self.cold.runner.start(2)
        self.samples["sandbox start, 2 kernels (s)"].append(time.perf_counter() - t)
        await self.cold.release(sandbox)
        for key, pool in (("graded, warm sandbox (s)", self.warm),
                          ("graded, sandbox started for it (s)", self.cold)):
            await self.quiet()
            t = time.perf_counter()
            result = await autograde_async(build, sub, pool)
            self.samples[key].append(time.perf_counter() - t)
            self.scores.append({(nb, gid): c.score for nb, g in result.notebooks.items()
                                for gid, c in g.cells.items()})

    async def close(self) -> None:
        await asyncio.gather(*self.removals)
        await self.warm.close()
        await self.cold.close()


def _stats(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.mean(values), statistics.median(values), p95


async def _run(build, subs: list[Path]) -> dict[str, Measured]:
    measured = {name: Measured(rt) for name, rt in RUNTIMES.items()}
    try:
        for m in measured.values():
            m.warm.runner.check_available()
            await m.warm.start()
        for i, sub in enumerate(subs):
            for m in measured.values():
                await m.round(build, sub)
            print(f"  round {i + 1}/{len(subs)} done", file=sys.stderr, flush=True)
    finally:
        for m in measured.values():
            await m.close()
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10,
                        help=f"rounds: submissions graded per runtime and mode (<= {MAX_ROUNDS})")
    args = parser.parse_args()
    if not 1 <= args.n <= MAX_ROUNDS:
        parser.error(f"-n must be between 1 and {MAX_ROUNDS}")
    if os.geteuid() != 0:
        sys.exit("run as root, like the grader (sandboxes hand their socket folder over)")

    tmp = Path(tempfile.mkdtemp(prefix="ls-bench-gvisor-"))
    try:
        source = f.reference_assignment(tmp / "source" / "ps1")
        build = build_release(source)
        student = tmp / "student"
        build.write_student_version(student)
        subs = [f.submission_from(student, tmp / "subs" / f"s{i:03d}",
                                  f.CORRECT if i % 2 == 0 else f.WRONG)
                for i in range(args.n)]
        print(f"== {args.n} rounds, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}; each round: one sandbox start and two gradings "
              "per runtime")
        try:
            measured = asyncio.run(_run(build, subs))
        except SandboxUnavailable as e:
            sys.exit(f"cannot benchmark: {e}")
        default, gvisor = (measured[name] for name in RUNTIMES)
        width = max(len(k) for k in default.samples)
        print(f"{'':{width}}  {'runtime':15} {'mean':>8} {'p50':>8} {'p95':>8}")
        for key in default.samples:
            rows = []
            for name, m in measured.items():
                if m.samples[key]:
                    mean, p50, p95 = _stats(m.samples[key])
                    rows.append(mean)
                    print(f"{key:{width}}  {name:15} {mean:8.3f} {p50:8.3f} {p95:8.3f}")
            if len(rows) == 2 and rows[0] > 0:
                print(f"{'':{width}}  ratio runsc/default, mean: {rows[1] / rows[0]:.2f}x")
        same = default.scores == gvisor.scores
        print(f"scores equal under both runtimes, cell by cell: "
              f"{'yes' if same else 'NO'} ({len(default.scores)} gradings each)")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
