"""The README's first command: `./studio up` runs the compose stack (proxy, hub with its
grader, the Wagtail site); people sign in on the site and land in JupyterLab; grades
reach the site; `./studio down` stops it and keeps every learner's files. The stack runs
with STUDIO_MONITORING=1 (its Prometheus scrapes hub, grader and site, and sees gradings)
and STUDIO_LOG_FORMAT=json (every part logs JSON lines).

One stack serves the module (it takes a couple of minutes to come up); every test leaves
it running, so the tests do not depend on their order.
"""

import json
import os
import re
import secrets
import subprocess
import threading

import pytest
import requests
from stack import (
    ROOT,
    compose_down,
    compose_env,
    env_value,
    free_port,
    site_sign_in,
    wait_for,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]
PASSWORD = "learn-with-notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "stack"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def studio(env, *args) -> subprocess.CompletedProcess:
    p = subprocess.run([str(ROOT / "studio"), *args], env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"./studio {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def command_lines() -> set[str]:
    """Every process's command line on this machine, as `ps` shows them (the stack's
    containers share the host's kernel: their processes are in /proc here too)."""
    seen = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    seen.add(f.read().replace(b"\0", b" ").decode(errors="replace").strip())
            except OSError:
                pass
    return seen


class CommandLines(threading.Thread):
    """Samples every command line while `./studio up` runs (its short-lived steps too)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.seen |= command_lines()
            self.done.wait(0.05)


# The operator's config.d, one file per part (see test_config_d_and_log_rotation).
PROBE_TOKEN = secrets.token_hex(16)
CONFIG_D = {
    "hub/10-probe.py": "c.JupyterHub.services.append("
                       f"{{'name': 'config-d-probe', 'api_token': '{PROBE_TOKEN}'}})\n",
    "grader/10-probe.py": "c.GraderSettings.submission_rate = 6\n",
    "site/10-probe.py": "LS_CONFIG_D_PROBE = 'site/10-probe.py'\n",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    config_d = tmp_path_factory.mktemp("config.d")
    config_d.chmod(0o755)  # the site reads it as its own user, as data/config.d
    for name, text in CONFIG_D.items():
        (config_d / name).parent.mkdir(mode=0o755, exist_ok=True)
        (config_d / name).write_text(text)
    env = compose_env(
        "lstc", tmp_path_factory.mktemp("compose") / "studio.env",
        STUDIO_MONITORING="1",
        STUDIO_LOG_FORMAT="json",
        STUDIO_PROMETHEUS_PORT=str(free_port()),
        STUDIO_PROMETHEUS_SCRAPE_INTERVAL="2s",
        STUDIO_CONFIG_D=str(config_d),
        # learners' home images (the 1G home quota is on by default) in this test's folder
        STUDIO_HOMES_DIR=str(tmp_path_factory.mktemp("homes")),
    )
    sampler = CommandLines()
    sampler.start()
    try:
        try:
            up = studio(env, "up")
        finally:
            sampler.done.set()
            sampler.join()
        token = env_value(env, "STUDIO_ADMIN_TOKEN")
        port = env["STUDIO_PORT"]
        yield {"env": env, "up": up, "port": port, "command_lines": sampler.seen, "public": f"http://localhost:{port}",
               "api": f"http://127.0.0.1:{port}/hub/api",
               "grader": f"http://grader--service.localhost:{port}/services/grader/api",
               "admin": {"Authorization": f"token {token}"},
               "prometheus": f"http://127.0.0.1:{env['STUDIO_PROMETHEUS_PORT']}"}
    finally:
        compose_down(env, "prometheus-data")


def hub_user(stack, name: str) -> dict:
    r = requests.get(f"{stack['api']}/users/{name}", headers=stack["admin"], timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def user_token(stack, name: str) -> dict:
    r = requests.post(f"{stack['api']}/users/{name}/tokens", headers=stack["admin"], json={},
                      timeout=10)
    assert r.status_code == 201, r.text
    return {"Authorization": f"token {r.json()['token']}"}


def start_server(stack, name: str) -> None:
    r = requests.post(f"{stack['api']}/users/{name}/server", headers=stack["admin"], timeout=60)
    assert r.status_code in (201, 202, 400), r.text  # 400: already running
    wait_for(lambda: hub_user(stack, name)["servers"].get("", {}).get("ready"), 120,
             f"{name}'s server")


def test_up_prints_the_site_and_loads_the_courses(stack):
    out, err = stack["up"].stdout, stack["up"].stderr
    assert f"running at http://127.0.0.1:{stack['port']}" in out
    assert "alan" in out and PASSWORD in out and "edith" in out
    # both courses in the grader, each release checked in a sandbox run from the hub's
    # container ... and in the site's catalogue
    assert "python-foundations" in err and "data-analysis-pandas" in err
    r = requests.get(f"{stack['grader']}/openapi.json", timeout=30)
    assert r.status_code == 200 and "openapi" in r.json()
    home = requests.get(f"http://127.0.0.1:{stack['port']}/", timeout=30)
    assert home.status_code == 200 and "Learning Studio" in home.text  # the site's home
    catalogue = requests.get(f"{stack['public']}/courses/", timeout=30).text
    assert "Python Foundations" in catalogue and "Data Analysis with pandas" in catalogue


def compose_containers(stack) -> dict:
    import docker

    project = stack["env"]["STUDIO_COMPOSE_PROJECT"]
    found = docker.from_env().containers.list(
        filters={"label": f"com.docker.compose.project={project}"})
    return {c.labels["com.docker.compose.service"]: c for c in found}


def test_config_d_and_log_rotation(stack):
    import docker

    services = compose_containers(stack)
    assert {"proxy", "hub", "cms", "prometheus"} <= set(services)
    grader = docker.from_env().containers.get(f"{stack['env']['STUDIO_PREFIX']}-grader")
    # every container's log is rotated (STUDIO_LOG_MAX_SIZE / STUDIO_LOG_MAX_FILES)
    rotated = {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "5"}}
    for name, container in [*services.items(), ("grader", grader)]:
        assert container.attrs["HostConfig"]["LogConfig"] == rotated, name

    # config.d is mounted read-only into the hub, the site and the grader's container
    for name, container in (("hub", services["hub"]), ("cms", services["cms"]),
                            ("grader", grader)):
        mount = next(m for m in container.attrs["Mounts"]
                     if m["Destination"] == "/etc/learning-studio/config.d")
        assert mount["Source"] == stack["env"]["STUDIO_CONFIG_D"] and mount["RW"] is False, name
    # the hub's file added a service to the hub
    r = requests.get(f"{stack['api']}/services/config-d-probe", headers=stack["admin"],
                     timeout=10)
    assert r.status_code == 200, r.text
    # the grader, in its own container, ran its file (its log is in the hub's)
    hub_log = subprocess.run(["docker", "logs", services["hub"].id], capture_output=True,
                             text=True)
    assert ("grader: loading config file /etc/learning-studio/config.d/grader/10-probe.py"
            in hub_log.stdout + hub_log.stderr)
    # the site's file set a setting
    probe = services["cms"].exec_run(
        ["cms-entrypoint", "manage", "shell", "-c",
         "from django.conf import settings; print(settings.LS_CONFIG_D_PROBE)"])
    assert probe.exit_code == 0 and probe.output.decode().strip().endswith("site/10-probe.py"), \
        probe.output.decode()[-2000:]


def test_no_secret_on_any_command_line(stack):
    # what ps showed while `up` ran (course import, the site's set-up commands, ...) and now
    seen = stack["command_lines"] | command_lines()
    # the sampler saw the stack's processes: the hub, its grader, the proxy, the site, and
    # up's own course import (which runs with the admin token)
    for what in ("-m hub", "grader serve", "configurable-http-proxy", "gunicorn",
                 "grader course import"):
        assert any(what in line for line in seen), f"never saw {what!r}"
    with open(stack["env"]["STUDIO_ENV_FILE"]) as f:
        secrets_ = dict(line.strip().split("=", 1) for line in f
                        if "=" in line and not line.startswith("#"))
    assert {"STUDIO_ADMIN_TOKEN", "CONFIGPROXY_AUTH_TOKEN", "STUDIO_OIDC_CLIENT_SECRET",
            "JUPYTERHUB_CRYPT_KEY", "STUDIO_SIGNING_SECRET"} <= set(secrets_)
    for name, value in secrets_.items():
        leaks = [line for line in seen if value in line]
        assert not leaks, f"{name} is on a command line: {leaks[0][:200]}"


def test_sign_in_on_the_site_gives_hub_groups_and_grades_reach_the_site(stack):
    alan = site_sign_in(stack["public"], "alan", PASSWORD)
    groups = set(hub_user(stack, "alan")["groups"])
    assert {"learners:python-foundations", "learners:data-analysis-pandas"} <= groups
    assert not any(g.startswith("instructors") for g in groups)
    site_sign_in(stack["public"], "ada", PASSWORD)
    assert {"instructors", "instructors:python-foundations"} <= set(
        hub_user(stack, "ada")["groups"])

    # alan's token reaches his course on the grader (a role from the site's claim) ...
    h = user_token(stack, "alan")
    course = f"{stack['grader']}/courses/python-foundations"
    r = requests.get(f"{course}/assignments", headers=h, timeout=30)
    assert r.status_code == 200, r.text
    assert len(r.json()) == 9
    first = sorted(a["assignment"] for a in r.json())[0]
    # ... but not its instructor side (the gradebook), which ada's token reaches
    r = requests.get(f"{course}/grades.csv", headers=h, timeout=30)
    assert r.status_code == 403, r.text
    r = requests.get(f"{course}/grades.csv", headers=user_token(stack, "ada"), timeout=30)
    assert r.status_code == 200 and r.text.startswith("course,"), r.text[:200]

    # He submits the untouched student version; the sandbox grades it; the grader's
    # signed webhook records the grade on the site, where his dashboard shows it.
    release = requests.get(f"{course}/assignments/{first}/release", headers=h, timeout=30)
    assert release.status_code == 200, release.text
    files = {p: b for p, b in release.json()["files"].items() if p.endswith(".ipynb")}
    r = requests.post(f"{course}/assignments/{first}/submissions", headers=h, timeout=60,
                      json={"files": files})
    assert r.status_code == 201, r.text

    def on_site():
        mine = alan.get(f"{stack['public']}/api/v1/progress/", timeout=10).json()
        for c in mine:
            for a in c["assignments"] if c["course_id"] == "python-foundations" else []:
                if a.get("assignment_id", a.get("id")) == first and a.get("score") is not None:
                    return a
        return None

    shown = wait_for(on_site, 300, "the grade on the site's progress API", interval=2)
    assert shown["score"] < shown["max_score"]  # the blank student version earns little
    page = alan.get(f"{stack['public']}/progress/", timeout=10).text
    assert "First submission" in page  # the achievement the event earned


def prometheus(stack, path: str, **params):
    r = requests.get(f"{stack['prometheus']}/api/v1/{path}", params=params, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]


def prometheus_value(stack, query: str) -> float | None:
    result = prometheus(stack, "query", query=query)["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_every_part_and_sees_a_grading(stack):
    assert f"http://127.0.0.1:{stack['env']['STUDIO_PROMETHEUS_PORT']}/" in stack["up"].stdout

    def all_up():
        targets = prometheus(stack, "targets")["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        if set(health) == {"hub", "grader", "site", "prometheus"} and set(health.values()) == {
                "up"}:
            return health
        return None

    try:
        wait_for(all_up, 120, "every Prometheus target up", interval=1)
    except TimeoutError:
        pytest.fail(f"not every target is up: {prometheus(stack, 'targets')['activeTargets']}")
    # each answered with real samples, through the token (the site's from gunicorn's workers)
    assert prometheus_value(stack, "sum(site_requests_total)") > 0
    assert prometheus_value(stack, 'max(grader_sandboxes_warm_target)') > 0
    assert prometheus_value(stack, "count(grader_jobs)") == 4
    assert prometheus_value(stack, "max(jupyterhub_total_users)") is not None

    # the alerts of the operator's guide are loaded and evaluate without errors
    def rules_evaluated():
        rules = [r for g in prometheus(stack, "rules")["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] == "ok" for r in rules) else None

    rules = wait_for(rules_evaluated, 60, "the alert rules evaluated", interval=1)
    assert {"ServiceDown", "GradingQueueBacklog", "GradingFailures", "SandboxesUnavailable",
            "WarmSandboxPoolEmpty", "WebhookBacklog", "DiskAlmostFull"} <= {
        r["name"] for r in rules}
    firing = [r["name"] for r in rules if r.get("state") == "firing"]
    assert "ServiceDown" not in firing and "DiskAlmostFull" not in firing, firing

    # the metrics token reads metrics and nothing else of the hub
    metrics_token = {"Authorization": f"Bearer {env_value(stack['env'], 'STUDIO_METRICS_TOKEN')}"}
    r = requests.get(f"{stack['api']}/users", headers=metrics_token, timeout=10)
    assert r.status_code == 403, r.text
    r = requests.get(f"http://127.0.0.1:{stack['port']}/hub/metrics", timeout=10)
    assert r.status_code == 403
    assert requests.get(f"http://127.0.0.1:{stack['port']}/hub/metrics", headers=metrics_token,
                        timeout=10).status_code == 200
    # Prometheus itself listens on loopback only
    ss = subprocess.run(["ss", "-ltnH", f"sport = :{stack['env']['STUDIO_PROMETHEUS_PORT']}"],
                        capture_output=True, text=True).stdout.splitlines()
    local = [line.split()[3] for line in ss if line.strip()]
    assert local and all(a.startswith("127.0.0.1:") for a in local), ss

    # a grading shows in the grading-time histogram
    wait_for(lambda: prometheus_value(stack, "sum(grader_grading_seconds_count)") is not None,
             30, "the grading-time histogram in Prometheus")
    before = prometheus_value(stack, "sum(grader_grading_seconds_count)")
    site_sign_in(stack["public"], "grace", PASSWORD)
    h = user_token(stack, "grace")
    course = f"{stack['grader']}/courses/data-analysis-pandas"
    r = requests.get(f"{course}/assignments", headers=h, timeout=30)
    assert r.status_code == 200, r.text
    first = sorted(a["assignment"] for a in r.json())[0]
    release = requests.get(f"{course}/assignments/{first}/release", headers=h, timeout=30)
    files = {p: b for p, b in release.json()["files"].items() if p.endswith(".ipynb")}
    r = requests.post(f"{course}/assignments/{first}/submissions", headers=h, timeout=60,
                      json={"files": files})
    assert r.status_code == 201, r.text
    after = wait_for(
        lambda: (v := prometheus_value(stack, "sum(grader_grading_seconds_count)")) > before
        and v, 300, "the grading in Prometheus's grading-time histogram", interval=2)
    assert after >= before + 1
    assert prometheus_value(stack, "sum(grader_graded_total)") >= 1

    # STUDIO_LOG_FORMAT=json: the hub, the grader (in the hub's log) and the site write JSON
    def json_lines(service: str) -> list[dict]:
        ids = subprocess.run(
            ["docker", "ps", "-q", "--filter",
             f"label=com.docker.compose.project={stack['env']['STUDIO_COMPOSE_PROJECT']}",
             "--filter", f"label=com.docker.compose.service={service}"],
            capture_output=True, text=True).stdout.split()
        assert ids, f"no {service} container"
        p = subprocess.run(["docker", "logs", ids[0]], capture_output=True, text=True)
        lines = (p.stdout + p.stderr).splitlines()
        raw_tail[service] = lines[-15:]
        return [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]

    raw_tail: dict[str, list[str]] = {}
    hub_log = json_lines("hub")
    # the hub's own lines (its logger is named after its class, StudioHub)
    assert any(r["logger"] == "StudioHub" for r in hub_log), raw_tail["hub"]

    # the grader's line reaches the hub's log through two log streams (its container's,
    # then the hub's): on a loaded machine it can come after Prometheus saw the grading
    def grader_logged_the_grading():
        return [r for r in json_lines("hub") if r["logger"].startswith("grader")
                and r["message"].startswith("graded submission") and r.get("user") == "grace"]

    try:
        graded = wait_for(grader_logged_the_grading, 60, "the grader's JSON line of grace's "
                          "grading in the hub's log", interval=1)
    except TimeoutError:
        pytest.fail(f"no JSON line of grace's grading in the hub's log: {raw_tail['hub']}")
    assert graded[-1]["course"] == "data-analysis-pandas", graded[-1]

    def site_logged_the_grade():
        return [r for r in json_lines("cms") if r["message"].startswith("grade event")]

    wait_for(site_logged_the_grade, 60, "the site's JSON log line of the grade event",
             interval=1)


def lab_sign_in(page, public: str, port: str, name: str) -> str:
    """Sign in on the site from the hub's login, land in JupyterLab; its base URL."""
    page.goto(f"{public}/hub/login")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form[method=post] button")
    page.wait_for_url(re.compile(rf"{name}\.localhost:{port}/user/{name}/lab"),
                      timeout=180_000)
    page.wait_for_selector(".jp-LabShell", timeout=120_000)
    return f"http://{name}.localhost:{port}/user/{name}"


def lab_fetch(page, url: str) -> tuple[int, str]:
    """GET from inside the JupyterLab page with its cookies and XSRF token, as JupyterLab's
    own requests do (the hub's cookie auth checks the token on every API request)."""
    return tuple(page.evaluate("""async (u) => {
        const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
        const r = await fetch(u, {headers: {"X-XSRFToken": decodeURIComponent(xsrf)}});
        return [r.status, await r.text()]; }""", url))


def test_browser_sso_journey(stack):
    """Headless Chromium: sign in on the site, open JupyterLab as the same user; an editor
    cannot reach instructor grading; logout works both ways."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    public, port = stack["public"], stack["port"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1300, "height": 850}).new_page()
            page.set_default_timeout(60_000)
            page.goto(f"http://127.0.0.1:{port}/")  # the address `up` prints
            assert page.url.startswith(public)
            page.screenshot(path=str(ARTIFACTS / "01-site-home.png"))
            page.goto(f"{public}/accounts/login/")
            page.fill("input[name=username]", "grace")
            page.fill("input[name=password]", PASSWORD)
            page.click("main form[method=post] button")
            page.wait_for_load_state()
            assert "/accounts/login/" not in page.url
            page.screenshot(path=str(ARTIFACTS / "02-site-signed-in.png"))
            # JupyterLab without a second password: the hub signs her in through the site
            page.click("#open-jupyterlab")
            page.wait_for_url(re.compile(rf"grace\.localhost:{port}/user/grace/lab"),
                              timeout=180_000)
            page.wait_for_selector(".jp-LabShell", timeout=120_000)
            page.screenshot(path=str(ARTIFACTS / "03-jupyterlab-as-grace.png"))
            assert hub_user(stack, "grace")["servers"][""]["ready"]
            # the catalogue's "open" on a lesson fetches it into her JupyterLab and shows it
            page.goto(f"{public}/courses/python-foundations/")
            page.locator("a[href*='/learning-studio/open/python-foundations/']").first.click()
            page.wait_for_url(re.compile(
                r"/user/grace/lab/tree/courses/python-foundations/lessons/.+\.ipynb"))
            page.locator(".jp-Notebook .jp-RenderedMarkdown h1").first.wait_for(
                state="visible", timeout=120_000)  # the lesson's title, rendered
            page.screenshot(path=str(ARTIFACTS / "03b-lesson-from-the-catalogue.png"))
            # logging out of the hub ends the site session too
            page.goto(f"{public}/hub/logout")
            page.wait_for_load_state()
            page.goto(f"{public}/progress/")
            assert "/accounts/login/" in page.url, page.url
            page.screenshot(path=str(ARTIFACTS / "04-after-hub-logout.png"))

            # the editor signs in and opens JupyterLab: the instructor side of a course
            # (its submissions table) is refused by the grader, for her and only her
            first = sorted(a["assignment"] for a in requests.get(
                f"{stack['grader']}/courses/python-foundations/assignments",
                headers=stack["admin"], timeout=30).json())[0]
            table = f"learning-studio/courses/python-foundations/assignments/{first}/submissions"
            edith = lab_sign_in(page, public, port, "edith")
            status, body = lab_fetch(page, f"{edith}/{table}")
            assert status == 404 and "not enrolled" in body, (status, body)  # the grader's
            page.screenshot(path=str(ARTIFACTS / "05-editor-in-jupyterlab.png"))
            # logging out of the site ends the hub session too
            page.goto(f"{public}/")
            page.click("form[action*='logout'] button")
            page.wait_for_load_state()
            r = page.request.get(f"{public}/hub/home", max_redirects=0)
            assert r.status == 302 and "/hub/login" in r.headers["location"]
            page.screenshot(path=str(ARTIFACTS / "06-after-site-logout.png"))
            # the course's instructor, same request: the table comes back
            ada = lab_sign_in(page, public, port, "ada")
            status, body = lab_fetch(page, f"{ada}/{table}")
            assert status == 200 and '"submissions"' in body, (status, body)
        finally:
            browser.close()


def test_down_then_up_keeps_learner_files(stack):
    env = stack["env"]
    start_server(stack, "grace")
    uh = user_token(stack, "grace")
    url = f"http://grace.localhost:{stack['port']}/user/grace/api/contents/kept.txt"
    r = requests.put(url, headers=uh, timeout=10,
                     json={"type": "file", "format": "text", "content": "still here"})
    assert r.status_code in (200, 201), r.text

    studio(env, "down")
    prefix = env["STUDIO_PREFIX"]
    listed = subprocess.run(["docker", "ps", "-aq", "--filter", f"name=^{prefix}-"],
                            capture_output=True, text=True).stdout.split()
    assert listed == [], "learner containers survived ./studio down"

    again = studio(env, "up")
    assert "grader: python-foundations: up to date" in again.stdout
    start_server(stack, "grace")
    assert requests.get(url, headers=uh, timeout=10).json()["content"] == "still here"
    # the site kept its data too: grace still signs in
    assert site_sign_in(stack["public"], "grace", PASSWORD)

