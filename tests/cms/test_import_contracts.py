"""The site's import contracts (cms/importlinter.ini): apps import downward only, base at
the bottom, and no sibling modules import each other in a cycle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def test_an_upward_import_breaks_the_layers(tmp_path) -> None:
    copy = copy_site(tmp_path)
    sanitiser = copy / "studio_site/base/sanitise.py"
    sanitiser.write_text(sanitiser.read_text() + "\nfrom studio_site.blog import models  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "studio_site.base is not allowed to import studio_site.blog" in result.stdout


def test_a_cycle_between_siblings_is_refused(tmp_path) -> None:
    copy = copy_site(tmp_path)
    forms = copy / "studio_site/blog/forms.py"
    forms.write_text(forms.read_text() + "\nfrom studio_site.blog import models  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "No import cycles among sibling modules" in result.stdout
    assert "BROKEN" in result.stdout
