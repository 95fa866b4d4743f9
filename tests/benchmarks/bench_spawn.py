#!/usr/bin/env python
"""Spawn benchmark: Learning Studio's learner sandbox beside a stock DockerSpawner setup.

For each setup, in the same run on the same engine:
  - 10 learners one after another: spawn request -> ready (from the hub's progress
    stream), and -> first executed cell (kernel started and answering through the proxy);
  - 20 learners at once: time until all are ready, and failures;
  - memory of an idle learner server, 5 s after ready: RSS (sum over its processes)
    and PSS (shared pages split among the containers sharing them: the cost of one more).
Prints p50/p95 for each and the ratio stock/ours (above 1 means ours is better).

    .venv/bin/python tests/benchmarks/bench_spawn.py [--sequential 10] [--concurrent 20]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/stack.py, the tests' own helpers

import docker  # noqa: E402
from stack import VENV_BIN, Stack, run_code  # noqa: E402

STOCK_IMAGE = "learning-studio/bench-stock-lab:latest"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def build_stock_image() -> None:
    client = docker.from_env()
    try:
        client.images.get(STOCK_IMAGE)
        return
    except docker.errors.ImageNotFound:
        pass
    print("building the stock comparison image (once)...", flush=True)
    ctx = HERE / "stock"
    ca = ctx / "ca-certificates.crt"
    ca.write_bytes(Path("/etc/ssl/certs/ca-certificates.crt").read_bytes())
    try:
        subprocess.run(["docker", "build", "-q", "-t", STOCK_IMAGE, str(ctx)], check=True,
                       env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"})
    finally:
        ca.unlink()


def container_rss_mib(container) -> float:
    top = container.top(ps_args="-o pid,rss")
    col = top["Titles"].index("RSS")
    return sum(int(row[col]) for row in top["Processes"]) / 1024


def container_pss_mib(container) -> float:
    """Proportional set size: each shared page (the image's libraries, shared by every
    learner container of the same image) counted once across the processes sharing it.
    The per-learner cost of one more idle server. Reading smaps needs root."""
    top = container.top(ps_args="-o pid")
    total = 0
    for (pid,) in top["Processes"]:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def measure(stack: Stack, label: str, sequential: int, concurrent: int) -> dict:
    for i in range(sequential + concurrent):
        stack.admin("POST", f"users/bench{i:02d}")
    ready, first_cell = [], []
    # warm-up spawn (page cache, image layers), not counted
    stack.spawn("bench00")
    stack.stop_server("bench00")
    for i in range(sequential):
        name = f"bench{i:02d}"
        token = stack.user_token(name)
        t0 = time.perf_counter()
        url = stack.spawn(name)["url"]
        t1 = time.perf_counter()
        if url.startswith("/"):  # the stock hub serves learners on its own origin
            url = stack.public_url + url
        assert run_code(url, token, "print(1 + 1)").strip() == "2"
        t2 = time.perf_counter()
        ready.append(t1 - t0)
        first_cell.append(t2 - t0)
        print(f"  [{label}] {name}: ready {t1 - t0:.2f}s, first cell {t2 - t0:.2f}s", flush=True)
    time.sleep(5)
    rss = [container_rss_mib(stack.container(f"bench{i:02d}")) for i in range(sequential)]
    pss = [container_pss_mib(stack.container(f"bench{i:02d}")) for i in range(sequential)]
    for i in range(sequential):
        stack.stop_server(f"bench{i:02d}")

    names = [f"bench{i:02d}" for i in range(sequential, sequential + concurrent)]
    failures: list[str] = []
    done: list[float] = []
    t0 = time.perf_counter()

    def one(name):
        try:
            stack.spawn(name, timeout=120)
            done.append(time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001 - counted and reported
            failures.append(f"{name}: {e}"[:200])

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    all_ready = max(done) if done else float("nan")
    print(f"  [{label}] {concurrent} at once: {len(done)} ready, last after {all_ready:.2f}s, "
          f"{len(failures)} failed", flush=True)
    for name in names:
        try:
            stack.stop_server(name)
        except Exception:  # noqa: BLE001
            pass
    return {
        "ready_p50": pct(ready, 0.5), "ready_p95": pct(ready, 0.95),
        "cell_p50": pct(first_cell, 0.5), "cell_p95": pct(first_cell, 0.95),
        "all_ready": all_ready, "failures": len(failures), "rss": statistics.median(rss),
        "pss": statistics.median(pss),
        "failure_detail": failures[:3],
    }


def run_setup(label: str, sequential: int, concurrent: int, **kwargs) -> dict:
    with tempfile.TemporaryDirectory() as d:
        stack = Stack(Path(d), **kwargs)
        try:
            if label == "stock":
                client = stack.docker
                net = client.networks.create(f"{stack.prefix}-stock", driver="bridge")
                net.reload()
                stack.env.update(STOCK_IMAGE=STOCK_IMAGE, STOCK_NETWORK=net.name,
                                 STOCK_GATEWAY=net.attrs["IPAM"]["Config"][0]["Gateway"])
            (Path(d) / "hub").mkdir()
            stack.start_proxy()
            stack.start_hub()
            return measure(stack, label, sequential, concurrent)
        finally:
            stack.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sequential", type=int, default=10)
    ap.add_argument("--concurrent", type=int, default=20)
    args = ap.parse_args()
    build_stock_image()
    stock_cmd = [str(VENV_BIN / "jupyterhub"), "-f", str(HERE / "stock" / "jupyterhub_config.py")]
    # Per-learner limits are ours alone; give the 20-at-once run the same CPU as stock has.
    ours = run_setup("ours", args.sequential, args.concurrent,
                     prefix=f"bench{secrets.token_hex(2)}")
    stock = run_setup("stock", args.sequential, args.concurrent, hub_command=stock_cmd,
                      host_routing=False,
                      prefix=f"bstock{secrets.token_hex(2)}")
    rows = [
        ("spawn -> ready, p50 (s)", "ready_p50"), ("spawn -> ready, p95 (s)", "ready_p95"),
        ("spawn -> first cell, p50 (s)", "cell_p50"), ("spawn -> first cell, p95 (s)", "cell_p95"),
        (f"{args.concurrent} at once, all ready (s)", "all_ready"),
        (f"{args.concurrent} at once, failures", "failures"),
        ("idle server RSS, median (MiB)", "rss"),
        ("idle server PSS, median (MiB)", "pss"),
    ]
    print(f"\nspawn benchmark ({args.sequential} sequential, {args.concurrent} concurrent), "
          f"ratio = stock / ours\n")
    print(f"{'':34} {'ours':>9} {'stock':>9} {'ratio':>7}")
    for title, key in rows:
        o, s = ours[key], stock[key]
        ratio = f"{s / o:7.2f}" if isinstance(o, float) and o else "      -"
        print(f"{title:34} {o:9.2f} {s:9.2f} {ratio}")
    for label, res in (("ours", ours), ("stock", stock)):
        for f in res["failure_detail"]:
            print(f"  {label} failure: {f}")


if __name__ == "__main__":
    main()
