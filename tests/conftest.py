"""Shared test setup: makes tests/ importable (stack.py) and the repo root too."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
for p in (TESTS, TESTS.parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
