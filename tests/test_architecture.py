"""The layout's rules, enforced: import contracts (import-linter) and no import cycles.

The contracts live in pyproject.toml ([tool.importlinter]) for the grader, the hub's
wiring and the shared contracts; the site's apps have theirs in cms/importlinter.ini
(tests/cms/test_import_contracts.py). docs/architecture.md explains them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import grimp
import pytest
from tooling import require_tool

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    result = subprocess.run([require_tool("lint-imports")], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def cycles(package: str) -> list[list[str]]:
    """Groups of modules of package that import each other in a ring (Tarjan's SCC).

    Imports made only for type checking do not count: they never run."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in sorted(graph.find_modules_directly_imported_by(m)):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                group.append(n)
                if n == m:
                    break
            # a package and its own __init__ importing a child is not a ring of modules
            if len(group) > 1:
                found.append(sorted(group))

    for m in modules:
        if m not in index:
            visit(m)
    return found


@pytest.mark.parametrize("package", ["grader", "hub", "studio_contracts", "studio_site"])
def test_no_import_cycles(package):
    assert cycles(package) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The check above would fail on a ring a -> b -> a."""
    pkg = tmp_path / "ringpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from ringpkg import b\n")
    (pkg / "b.py").write_text("from ringpkg import a\n")
    (pkg / "c.py").write_text("from ringpkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles("ringpkg") == [["ringpkg.a", "ringpkg.b"]]


def test_test_modules_have_unique_names():
    """pytest imports test modules by their base name (the folders have no __init__.py):
    two files with one name stop the whole run at collection."""
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(REPO)} and {path.relative_to(REPO)}")
        seen.setdefault(path.name, path)
    assert not clashes, "test modules with the same name: " + "; ".join(clashes)
