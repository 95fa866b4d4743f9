"""Compare an image's installed grading libraries with images/grading-lock.txt.

images/build.sh runs it around each build of the learner and the hub image, with the
image's `pip freeze` on stdin:

    python3 images/grading_lock.py before --image learning-studio/learner:latest --all LOCK
        says which pinned grading libraries the rebuild would change in the image it
        replaces (never fails: the lock is what the new image gets);
    python3 images/grading_lock.py verify --image learning-studio/learner:latest --all LOCK
        fails (exit 1) when the new image does not have exactly the locked versions.

--all: every locked library must be installed (the learner image, the grading sandbox);
without it only those the image has are compared (the hub's image has no numpy).
Standard library only: it runs with the host's python3 before any venv exists.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")


def canonical(name: str) -> str:
    """PEP 503's normal form: pip freeze and a lock may spell a name differently."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, str]:
    """name -> version of each `name==version` line; anything else (but comments and
    blank lines) is an error, so a loose pin such as `numpy>=2` cannot slip in."""
    pins: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _PIN.match(line)
        if not m:
            raise ValueError(f"line {n}: {raw.strip()!r} is not an exact pin (name==version)")
        name = canonical(m.group(1))
        if name in pins:
            raise ValueError(f"line {n}: {m.group(1)} is pinned twice")
        pins[name] = m.group(2)
    return pins


def parse_freeze(text: str) -> dict[str, str]:
    """name -> version from `pip freeze` output; `name @ url` lines (a local build of our
    own packages) and pip's notices are skipped."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        m = _PIN.match(raw.strip())
        if m:
            found[canonical(m.group(1))] = m.group(2)
    return found


@dataclass(frozen=True)
class Change:
    name: str
    installed: str | None  # None: not installed
    locked: str

    def __str__(self) -> str:
        return f"{self.name} {self.installed or '(not installed)'} -> {self.locked}"


def compare(lock: dict[str, str], installed: dict[str, str], *, require_all: bool
            ) -> list[Change]:
    """The locked libraries whose installed version differs from the lock, by name.
    require_all: a locked library that is not installed is a change too."""
    changes = []
    for name, version in sorted(lock.items()):
        have = installed.get(name)
        if have is None and not require_all:
            continue
        if have != version:
            changes.append(Change(name, have, version))
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 images/grading_lock.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["before", "verify"])
    parser.add_argument("lock", type=Path, help="images/grading-lock.txt")
    parser.add_argument("--image", required=True, help="the image's tag, for the messages")
    parser.add_argument("--all", action="store_true",
                        help="every locked library must be installed in the image")
    args = parser.parse_args(argv)
    try:
        lock = parse_lock(args.lock.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"[build] {args.lock}: {e}", file=sys.stderr)
        return 2
    changes = compare(lock, parse_freeze(sys.stdin.read()), require_all=args.all)
    if args.mode == "before":
        if changes:
            print(f"[build] this rebuild changes pinned grading libraries in {args.image} "
                  f"(grades may change; the lock is {args.lock}):", file=sys.stderr)
            for c in changes:
                print(f"[build]     {c}", file=sys.stderr)
        else:
            print(f"[build] pinned grading libraries in {args.image}: unchanged",
                  file=sys.stderr)
        return 0
    if changes:
        print(f"[build] {args.image} does not have the grading libraries of {args.lock}:",
              file=sys.stderr)
        for c in changes:
            print(f"[build]     {c.name}: installed {c.installed or 'nothing'}, "
                  f"locked {c.locked}", file=sys.stderr)
        print("[build] a requirement of the image overrides the lock: make them agree "
              "(change the lock or the requirement) and build again", file=sys.stderr)
        return 1
    print(f"[build] {args.image}: grading libraries as locked ({len(lock)} pins)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
