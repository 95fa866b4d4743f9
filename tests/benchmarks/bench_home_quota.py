#!/usr/bin/env python
"""What the home quota costs: the same hub with STUDIO_HOME_QUOTA=1G and with it off.

For each setup, on the same engine and learner image:
  - first spawn of N new learners (the quota creates each home: a helper container);
  - spawn again after a stop (the home is ready: no helper);
  - inside a learner's container, writing 256 MiB to the home (dd, fsync at the end)
    and creating 2000 small files;
  - host disk a new home takes before any file.
Prints the medians side by side.

    PYTHONPATH=.:contracts .venv/bin/python tests/benchmarks/bench_home_quota.py [--learners 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/stack.py, the tests' own helpers

from stack import running_stack  # noqa: E402

WRITE = ("s=$(date +%s.%N); dd if=/dev/zero of=/home/learner/w bs=1M count=256 conv=fsync "
         "2>/dev/null; e=$(date +%s.%N); rm -f /home/learner/w; echo \"$s $e\"")
SMALL = ("mkdir -p /home/learner/s; s=$(date +%s.%N); i=0; while [ $i -lt 2000 ]; do "
         "echo x > /home/learner/s/$i; i=$((i+1)); done; sync; e=$(date +%s.%N); "
         "rm -rf /home/learner/s; echo \"$s $e\"")


def seconds(container, script: str) -> float:
    out = container.exec_run(["sh", "-c", script]).output.decode().split()
    return float(out[1]) - float(out[0])


def measure(quota: str, learners: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-quota-") as tmp, \
            running_stack(Path(tmp), STUDIO_HOME_QUOTA=quota) as stack:
        names = [f"q{i}" for i in range(learners)]
        first, again, write, small = [], [], [], []
        for name in names:
            r = stack.admin("POST", f"users/{name}")
            assert r.status_code in (201, 409), r.text
            t = time.monotonic()
            stack.spawn(name)
            first.append(time.monotonic() - t)
        for name in names:
            stack.stop_server(name)
            t = time.monotonic()
            stack.spawn(name)
            again.append(time.monotonic() - t)
            c = stack.container(name)
            write.append(256 / seconds(c, WRITE))
            small.append(seconds(c, SMALL))
        images = list((Path(tmp) / "homes").glob("*.img"))
        disk = (statistics.median(p.stat().st_blocks * 512 for p in images) / 1024**2
                if images else 0.0)
        return {"first spawn (s)": statistics.median(first),
                "spawn again (s)": statistics.median(again),
                "write 256 MiB (MiB/s)": statistics.median(write),
                "2000 small files (s)": statistics.median(small),
                "host disk of a home after use (MiB)": disk}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=3)
    args = ap.parse_args()
    with_quota = measure("1G", args.learners)
    without = measure("0", args.learners)
    print(f"\n{'':40} {'quota 1G':>10} {'no quota':>10}")
    for key in with_quota:
        print(f"{key:40} {with_quota[key]:10.2f} {without[key]:10.2f}")


if __name__ == "__main__":
    main()
