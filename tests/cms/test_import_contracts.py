"""The site's import contracts (cms/importlinter.ini): apps import downward only, base at
the bottom, and no sibling modules import each other in a cycle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CMS_DIR = Path(__file__).resolve().parents[2] / "cms"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")  # cms/requirements.txt


def lint_imports(cms_dir: Path) -> subprocess.CompletedProcess:
    assert LINT_IMPORTS.exists(), "install cms/requirements.txt (it has import-linter)"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "importlinter.ini"], cwd=cms_dir,
        capture_output=True, text=True, timeout=120,
    )


def test_site_keeps_its_import_contracts() -> None:
    result = lint_imports(CMS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def copy_site(tmp_path: Path) -> Path:
    copy = tmp_path / "cms"
    shutil.copytree(CMS_DIR / "studio_site", copy / "studio_site",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(CMS_DIR / "importlinter.ini", copy)
    return copy


@pytest.mark.parametrize("module, imported, broken", [
    # base is at the bottom: it may not import an app above it
    ("base/sanitise.py", "studio_site.blog", "studio_site.base is not allowed to import "
                                             "studio_site.blog"),
    # the old blog.models <-> blog.forms cycle
    ("blog/forms.py", "studio_site.blog",
     "No import cycles among sibling modules (e.g. blog.models <-> blog.forms) BROKEN"),
])
def test_a_broken_contract_fails(tmp_path, module: str, imported: str, broken: str) -> None:
    copy = copy_site(tmp_path)
    source = copy / "studio_site" / module
    source.write_text(source.read_text() + f"\nfrom {imported} import models  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert broken in result.stdout
