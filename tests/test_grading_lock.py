"""Every version that can change a grade is pinned (issue #12): images/grading-lock.txt
pins the grading libraries, both images install with it as constraints, and a rebuild
reports what it would change (images/grading_lock.py, which images/build.sh runs)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "images" / "grading-lock.txt"

_spec = importlib.util.spec_from_file_location("grading_lock", ROOT / "images" / "grading_lock.py")
grading_lock = importlib.util.module_from_spec(_spec)
sys.modules["grading_lock"] = grading_lock
_spec.loader.exec_module(grading_lock)

# what scores (the hub's image), what runs the code and the tests (the sandbox), and what
# assignments compute with
GRADING = {"nbgrader", "nbclient", "nbconvert", "nbformat", "jupyter-client", "jupyter-core",
           "traitlets", "pyzmq", "ipykernel", "ipython", "numpy", "pandas", "matplotlib"}


def lock() -> dict[str, str]:
    return grading_lock.parse_lock(LOCK.read_text())


def requirements(path: Path) -> list[Requirement]:
    return [Requirement(line.split("#")[0].strip()) for line in path.read_text().splitlines()
            if line.split("#")[0].strip()]


def test_the_lock_pins_every_grading_library_exactly():
    pins = lock()
    assert GRADING <= set(pins), f"not pinned: {sorted(GRADING - set(pins))}"


def test_every_unpinned_learner_requirement_is_in_the_lock_and_pins_agree():
    pins = lock()
    for req in requirements(ROOT / "images" / "learner" / "requirements.txt"):
        name = grading_lock.canonical(req.name)
        if not str(req.specifier):
            assert name in pins, f"{req.name} is unpinned in requirements.txt and not locked"
        elif name in pins:
            assert req.specifier.contains(pins[name]), (req, pins[name])


def test_the_lock_satisfies_the_graders_own_requirements():
    # the hub's image installs pyproject's dependencies under the lock: they must agree
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = lock()
    checked = 0
    for dep in map(Requirement, deps):
        name = grading_lock.canonical(dep.name)
        if name in pins:
            assert dep.specifier.contains(pins[name]), (str(dep), pins[name])
            checked += 1
    assert checked >= 5


def pip_installs(dockerfile: Path) -> list[str]:
    """Each install into the image's environment (/opt/studio; the builder's own build
    tools in /opt/build never reach the image), with its continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [m.group(0) for m in re.finditer(r"/opt/studio/bin/pip install[^&\n]*", text)]


@pytest.mark.parametrize("image", ["learner", "hub"])
def test_both_images_install_under_the_lock(image):
    dockerfile = ROOT / "images" / image / "Dockerfile"
    text = dockerfile.read_text()
    assert re.search(r"^COPY (images/)?grading-lock.txt /tmp/grading-lock.txt$", text, re.M)
    if image == "hub":  # its build context is the repository, behind .dockerignore
        assert "!images/grading-lock.txt" in (ROOT / ".dockerignore").read_text().split()
    installs = [i for i in pip_installs(dockerfile) if "--no-deps" not in i]
    assert installs
    for install in installs:
        assert "-c /tmp/grading-lock.txt" in install, install


def test_build_stages_the_lock_and_checks_each_image_before_and_after():
    build = (ROOT / "images" / "build.sh").read_text()
    assert 'cp "$LOCK" images/learner/grading-lock.txt' in build
    assert "LOCK=images/grading-lock.txt" in build
    assert 'lock_check before "$tag"' in build and 'lock_check verify "$tag"' in build
    # the learner image (the sandbox) must have every locked library
    assert re.search(r"build learner .* all ;;", build)
    assert re.search(r"build hub .* installed ;;", build)
    # the site's image is not a grading image: no check (it has an nbclient of its own)
    assert re.search(r"build cms \S+ \S+ \S+ ;;", build)


def test_compare_reports_changed_added_and_missing_libraries():
    pins = grading_lock.parse_lock("numpy==2.4.6\npandas==3.1.1\nnbclient==0.10.4\n")
    installed = grading_lock.parse_freeze(
        "NumPy==2.4.7\nnbclient==0.10.4\nlearning_studio @ file:///src\nfoo==1\n")
    changes = grading_lock.compare(pins, installed, require_all=True)
    assert [str(c) for c in changes] == ["numpy 2.4.7 -> 2.4.6",
                                         "pandas (not installed) -> 3.1.1"]
    # the hub's image has no pandas: only what it has is compared
    assert [c.name for c in grading_lock.compare(pins, installed, require_all=False)] \
        == ["numpy"]
    assert grading_lock.compare(pins, {"numpy": "2.4.6", "pandas": "3.1.1",
                                       "nbclient": "0.10.4"}, require_all=True) == []


def test_names_are_compared_in_their_normal_form():
    pins = grading_lock.parse_lock("python-dateutil==4.0.0\njupyter_client==8.10.0\n")
    installed = grading_lock.parse_freeze("python_dateutil==4.0.0\nJupyter-Client==8.10.0\n")
    assert grading_lock.compare(pins, installed, require_all=True) == []


@pytest.mark.parametrize("bad", ["numpy\n", "numpy>=2\n", "numpy==2.4.6\nNumPy==2.4.7\n"])
def test_a_loose_or_doubled_pin_is_refused(bad):
    with pytest.raises(ValueError, match="line"):
        grading_lock.parse_lock(bad)


def run_cli(mode: str, freeze: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "images" / "grading_lock.py"), mode,
                           str(LOCK), "--image", "test/learner", *extra],
                          input=freeze, capture_output=True, text=True, timeout=30)


def test_rebuild_report_and_verification():
    pins = lock()
    exact = "".join(f"{name}=={version}\n" for name, version in pins.items())
    out = run_cli("before", exact, "--all")
    assert out.returncode == 0 and "unchanged" in out.stderr
    moved = exact.replace(f"numpy=={pins['numpy']}", "numpy==1.26.0")
    out = run_cli("before", moved, "--all")
    # a report, not a failure: the build goes on and installs the lock's version
    assert out.returncode == 0
    assert f"numpy 1.26.0 -> {pins['numpy']}" in out.stderr
    assert "grades may change" in out.stderr
    # after the build, an image that does not match fails it, saying what differs
    out = run_cli("verify", moved, "--all")
    assert out.returncode == 1
    assert f"numpy: installed 1.26.0, locked {pins['numpy']}" in out.stderr
    assert run_cli("verify", exact, "--all").returncode == 0
    # without --all a library the image lacks is not a difference (the hub has no numpy)
    no_numpy = "\n".join(line for line in exact.splitlines() if not line.startswith("numpy"))
    assert run_cli("verify", no_numpy).returncode == 0
    assert run_cli("verify", no_numpy, "--all").returncode == 1


def test_cli_reports_a_broken_lock(tmp_path):
    bad = tmp_path / "lock.txt"
    bad.write_text("numpy>=2\n")
    out = subprocess.run([sys.executable, str(ROOT / "images" / "grading_lock.py"), "verify",
                          str(bad), "--image", "x"], input="", capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 2 and "not an exact pin" in out.stderr
