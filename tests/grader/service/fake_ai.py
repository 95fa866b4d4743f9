"""The local OpenAI-compatible test server (tests/cms/fake_openai.py) for the grader's tests.

Loaded by path, once, under the name the site's tests use, so both see one class.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if "fake_openai" not in sys.modules:
    _path = Path(__file__).resolve().parents[2] / "cms" / "fake_openai.py"
    _spec = importlib.util.spec_from_file_location("fake_openai", _path)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["fake_openai"] = _module
    _spec.loader.exec_module(_module)

FakeOpenAIServer = sys.modules["fake_openai"].FakeOpenAIServer

__all__ = ["FakeOpenAIServer"]
