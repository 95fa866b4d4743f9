"""`python -m grader course import` against a real hub + grader service and a real CMS.

The grader checks every release in its sandbox (Docker), as it does in production; the
CMS is the Wagtail site with its test settings, run as a process of its own on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import requests
from course_services import CMS_SECRET, CMSProcess, service_support
from courses_testlib import REPO, SANDBOX_PREFIX, CourseCopy, remove_test_sandboxes

from studio_contracts.signing import SECRET_ENV

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

GRADER_CONFIG = """
c.GraderSettings.worker_count = 0          # these tests release; they grade nothing
c.GraderSettings.check_releases = True     # every release is checked in the sandbox
c.GraderSettings.user_cache_seconds = 1
c.SandboxPool.warm = 0
c.DockerSandbox.name_prefix = {prefix!r}
c.DockerSandbox.work_root = {work_root!r}
"""


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """A hub with the grader as its managed service, and the CMS; ada is an instructor."""
    root = tmp_path_factory.mktemp("import-services")
    cms = CMSProcess(root)  # starts migrating while the hub comes up
    config = GRADER_CONFIG.format(prefix=SANDBOX_PREFIX, work_root=str(root / "sandboxes"))
    proc = None
    try:
        proc, hub = service_support.start_hub(
            root / "hub", config, {},
            admin_scopes=service_support.ADMIN_SCOPES + ["read:services"],
        )
        hub.user("ada", groups=("instructors",))
        cms.wait_ready()
        yield hub, cms, hub.token("ada")
    finally:
        if proc is not None:
            service_support.stop_hub(proc)
        cms.stop()
        remove_test_sandboxes()  # the grader's release-check sandboxes


def _import(*args: str, secret: str | None = CMS_SECRET) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in (SECRET_ENV, "STUDIO_SITE_URL", "GRADER_API_URL",
                        "GRADER_API_TOKEN", "STUDIO_HUB_URL", "STUDIO_ADMIN_TOKEN")}
    if secret is not None:
        env[SECRET_ENV] = secret
    return subprocess.run([sys.executable, "-m", "grader", "course", "import", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=600, env=env)


def _renamed(copy: CourseCopy, slug: str) -> CourseCopy:
    """The copy as a course of its own (its own slug), so tests do not share grader state."""
    target = copy.root.parent / slug
    shutil.move(copy.root, target)
    moved = CourseCopy(target)
    data = moved.manifest()
    data["slug"] = slug
    moved.write_manifest(data)
    return moved


def _released(hub, token: str, course: str) -> dict[str, dict]:
    r = hub.client(token).get(f"{hub.grader}/courses/{course}/assignments")
    if r.status_code == 404:
        return {}
    assert r.status_code == 200, r.text
    return {a["assignment"]: a for a in r.json()}


def test_import_loads_the_grader_and_the_cms_and_only_adds_what_is_new(services, course_copy):
    hub, cms, token = services
    python = course_copy("python-foundations", ["ps01-values-and-strings",
                                                "ps02-lists-and-loops"], lessons=2)
    pandas = course_copy("data-analysis-pandas", ["pa01-numpy-steps"])
    args = [str(python.root), str(pandas.root), "--grader-url", hub.grader, "--token", token,
            "--instructor", "ada", "--cms-url", cms.url]

    first = _import(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "[python-foundations] course created in the grader" in first.stderr
    assert "[python-foundations] releasing ps01-values-and-strings (1/2;" in first.stderr
    assert "[python-foundations] released ps02-lists-and-loops version 1" in first.stderr
    assert "grader: python-foundations: released ps01-values-and-strings, ps02-lists-and-loops" in (
        first.stdout)
    assert "grader: data-analysis-pandas: released pa01-numpy-steps" in first.stdout
    assert "cms: catalogue created python-foundations, data-analysis-pandas; updated -" in (
        first.stdout)
    assert "no site account" not in first.stdout  # ada exists on the site
    released = _released(hub, token, "python-foundations")
    assert set(released) == {"ps01-values-and-strings", "ps02-lists-and-loops"}
    assert released["ps01-values-and-strings"]["check_report"]["ok"] is True  # sandbox-checked
    assert released["ps01-values-and-strings"]["max_submissions"] == 5
    # the catalogue page learners see, with the due date the grader's release fixed
    page = requests.get(f"{cms.url}/courses/python-foundations/", timeout=30)
    assert page.status_code == 200
    assert "Python Foundations" in page.text and "Lists and loops" in page.text
    due = released["ps01-values-and-strings"]["due_at"][:10]  # 2026-12-02
    year, month, day = due.split("-")
    assert year in page.text and str(int(day)) in page.text

    again = _import(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "releasing" not in again.stderr
    assert "grader: python-foundations: up to date (nothing new to release)" in again.stdout
    assert "cms: catalogue created -; updated python-foundations, data-analysis-pandas" in (
        again.stdout)
    assert _released(hub, token, "python-foundations")["ps01-values-and-strings"]["version"] == 1

    # the instructor adds an assignment: only it is released
    src = REPO / "courses" / "python-foundations"
    shutil.copytree(src / "source" / "ps03-conditionals-and-functions",
                    python.root / "source" / "ps03-conditionals-and-functions")
    data = python.manifest()
    import yaml

    full = yaml.safe_load((src / "course.yml").read_text())
    data["assignments"].append(next(a for a in full["assignments"]
                                    if a["slug"] == "ps03-conditionals-and-functions"))
    python.write_manifest(data)
    third = _import(*args)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "[python-foundations] releasing ps03-conditionals-and-functions (1/1;" in third.stderr
    assert "already released, left as they are: ps01-values-and-strings, ps02-lists-and-loops" in (
        third.stderr)
    assert len(_released(hub, token, "python-foundations")) == 3


def test_cms_down_the_grader_half_completes_and_the_retry_is_printed(services, course_copy):
    hub, cms, token = services
    course = _renamed(course_copy("data-analysis-pandas", ["pa01-numpy-steps"]), "pandas-cms-down")
    nobody = f"http://127.0.0.1:{service_support.free_port()}"
    result = _import(str(course.root), "--grader-url", hub.grader, "--token", token,
                     "--cms-url", nobody)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "grader: pandas-cms-down: released pa01-numpy-steps" in result.stdout
    assert f"cms: FAILED: the CMS at {nobody} does not answer" in result.stdout
    assert "the courses are loaded in the grader" in result.stdout
    assert set(_released(hub, token, "pandas-cms-down")) == {"pa01-numpy-steps"}
    retry = result.stdout.split("(with STUDIO_SIGNING_SECRET set):\n")[1].split()
    assert retry[:5] == ["python", "-m", "grader", "course", "import"]
    assert "--skip-grader" in retry
    # the printed retry, against the CMS once it is up, only pushes the catalogue
    retry[retry.index("--cms-url") + 1] = cms.url
    pushed = _import(*retry[5:])
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "cms: catalogue created pandas-cms-down" in pushed.stdout
    assert "grader:" not in pushed.stdout


def test_cms_rejects_a_wrong_secret(services, course_copy):
    _, cms, _ = services
    course = course_copy("data-analysis-pandas", ["pa01-numpy-steps"])
    result = _import(str(course.root), "--skip-grader", "--cms-url", cms.url,
                     "--cms-secret", "not-the-site-secret", secret=None)
    assert result.returncode == 3
    assert ("cms: FAILED: the CMS refused the signature (403: bad signature: both sides need "
            "the same STUDIO_SIGNING_SECRET): --cms-secret (or STUDIO_SIGNING_SECRET) must equal "
            "the site's STUDIO_SIGNING_SECRET") in result.stdout


def test_a_refused_release_is_named_and_the_other_courses_still_import(services, course_copy):
    hub, cms, token = services
    broken = _renamed(course_copy("python-foundations", ["ps01-values-and-strings"]), "pf-broken")
    nb = broken.notebook("ps01-values-and-strings")
    cell = broken.cell(nb, "shout")
    cell.source = cell.source.replace('"!!!"', '"!"')
    broken.save("ps01-values-and-strings", nb)
    fine = _renamed(course_copy("data-analysis-pandas", ["pa01-numpy-steps"]), "pandas-fine")
    result = _import(str(broken.root), str(fine.root), "--grader-url", hub.grader,
                     "--token", token, "--cms-url", cms.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert ("grader: pf-broken: FAILED: pf-broken/ps01-values-and-strings: the grader refused "
            "the release (422: release refused: tests that fail on the instructor's own "
            "solution: ps01-values-and-strings/shout-tests)") in result.stdout
    assert "grader: pandas-fine: released pa01-numpy-steps" in result.stdout
    assert "cms: not pushed, because their grader import failed: pf-broken" in result.stdout
    assert "cms: catalogue created pandas-fine" in result.stdout
    assert "run the same command again" in result.stdout
    assert _released(hub, token, "pf-broken") == {}
    assert requests.get(f"{cms.url}/courses/pf-broken/", timeout=30).status_code == 404


def test_bad_input_is_refused_before_anything_is_sent(services, course_copy, tmp_path):
    hub, cms, token = services
    valid = _renamed(course_copy("data-analysis-pandas", ["pa01-numpy-steps"]), "pandas-unsent")
    where = ["--grader-url", hub.grader, "--token", token, "--cms-url", cms.url]

    unknown = _import(str(valid.root), str(tmp_path / "no-such-course"), *where)
    assert unknown.returncode == 1
    assert f"error: {tmp_path / 'no-such-course'}: no course.yml found" in unknown.stderr
    assert "nothing was imported." in unknown.stderr

    bad = _renamed(course_copy("python-foundations", ["ps01-values-and-strings"]), "pf-bad")
    manifest = bad.manifest()
    manifest["assignments"][0]["points"] = "ten"
    bad.write_manifest(manifest)
    invalid = _import(str(valid.root), str(bad.root), *where)
    assert invalid.returncode == 1
    assert "pf-bad/course.yml does not match courses/schema.json" in invalid.stderr
    assert "assignments[0].points: 'ten'" in invalid.stderr

    manifest["assignments"][0]["points"] = 10
    bad.write_manifest(manifest)
    shutil.rmtree(bad.root / "source" / "ps01-values-and-strings")
    missing = _import(str(valid.root), str(bad.root), *where)
    assert missing.returncode == 1
    assert "assignment 'ps01-values-and-strings' of course 'pf-bad' has no source notebook" in (
        missing.stderr)

    nowhere = _import(str(valid.root))
    assert nowhere.returncode == 1
    assert "say where the grader is: --grader-url URL --token TOKEN" in nowhere.stderr
    no_secret = _import(str(valid.root), *where, secret=None)
    assert no_secret.returncode == 1
    assert "--cms-url needs the shared secret: --cms-secret or STUDIO_SIGNING_SECRET" in (
        no_secret.stderr)

    # none of these reached the grader or the CMS
    assert _released(hub, token, "pandas-unsent") == {}
    assert requests.get(f"{cms.url}/courses/pandas-unsent/", timeout=30).status_code == 404


def test_import_a_folder_of_courses_with_the_hub_admin_token(services, course_copy, tmp_path):
    """What ./studio up runs: a folder of courses, the hub's admin token (which finds the
    grader and makes a token for the instructor named), the site's address and secret from
    the environment. (Without --instructor the admin service releases: the compose test.)"""
    hub, cms, token = services
    course = _renamed(course_copy("data-analysis-pandas", ["pa01-numpy-steps"]), "pandas-demo")
    courses_dir = tmp_path / "courses"
    courses_dir.mkdir()
    shutil.move(course.root, courses_dir / "pandas-demo")
    env = {**os.environ, SECRET_ENV: CMS_SECRET, "STUDIO_SITE_URL": cms.url,
           "STUDIO_HUB_URL": hub.url, "STUDIO_ADMIN_TOKEN": service_support.ADMIN_TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "grader", "course", "import", str(courses_dir),
         "--instructor", "ada"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[pandas-demo] released pa01-numpy-steps version 1" in result.stderr
    assert "cms: catalogue created pandas-demo" in result.stdout
    released = _released(hub, token, "pandas-demo")
    assert released["pa01-numpy-steps"]["created_by"] == "ada"
