"""`STUDIO_DB=postgres ./studio up`: the same stack as tests/hub/test_compose_stack.py,
with a PostgreSQL service (image learning-studio/postgres) holding the hub's, the grader's
and the site's databases, and redis as the site's cache. A learner signs in on the site,
his server spawns, his submission is graded and the grade reaches the site: every row of
it is read back from PostgreSQL, the site's pages from redis; `./studio down` and a second
`up` find all of it again.

One stack serves the module (no Prometheus, to stay lean); every test leaves it running.
"""

import json
import subprocess
import tarfile

import psycopg
import pytest
import requests
from stack import ROOT, compose_down, compose_env, env_value, free_port, site_sign_in, wait_for
from test_compose_stack import (
    CommandLines,
    command_lines,
    hub_user,
    start_server,
    studio,
    user_token,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]
PASSWORD = "learn-with-notebooks"
DATABASES = ("studio_hub", "studio_grader", "studio_cms")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = compose_env(
        "lspg", tmp_path_factory.mktemp("compose-pg") / "studio.env",
        STUDIO_DB="postgres",
        STUDIO_POSTGRES_PORT=str(free_port()),
        STUDIO_REDIS_PORT=str(free_port()),
        **dict.fromkeys(("STUDIO_HUB_DB_URL", "STUDIO_GRADER_DB_URL", "STUDIO_CMS_DB_URL",
                         "STUDIO_CACHE_URL", "STUDIO_MONITORING")),
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
        yield {"env": env, "up": up, "port": port, "command_lines": sampler.seen,
               "public": f"http://localhost:{port}", "api": f"http://127.0.0.1:{port}/hub/api",
               "grader": f"http://grader--service.localhost:{port}/services/grader/api",
               "admin": {"Authorization": f"token {token}"}}
    finally:
        compose_down(env, "postgres-data")


def compose_command() -> list[str]:
    """`docker compose` where the plugin is installed, else docker-compose (as ./studio)."""
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True)
    return ["docker", "compose"] if plugin.returncode == 0 else ["docker-compose"]


def compose_exec(stack, service: str, *command: str, check: bool = True
                 ) -> subprocess.CompletedProcess:
    """A command in one of the stack's services, as the backup code runs pg_dump."""
    env = stack["env"]
    p = subprocess.run(
        [*compose_command(), "-p", env["STUDIO_COMPOSE_PROJECT"], "--env-file",
         env["STUDIO_ENV_FILE"], "-f", str(ROOT / "docker-compose.yml"),
         "-f", str(ROOT / "docker-compose.postgres.yml"), "exec", "-T", service, *command],
        env={**env, "STUDIO_SITE_INTERNAL_URL": "-", "STUDIO_GRADE_WEBHOOK_URL": "-",
             "STUDIO_SITE_URL": "-"},
        capture_output=True, timeout=120)
    if check:
        assert p.returncode == 0, f"{command}: {p.stdout[-2000:]!r} {p.stderr[-2000:]!r}"
    return p


def sql(stack, database: str, query: str) -> list[list[str]]:
    """Rows from one of the stack's databases, as the superuser over the container's socket."""
    out = compose_exec(stack, "postgres", "psql", "-U", "postgres", "-d", database, "-XAt",
                       "-F", "\t", "-c", query).stdout.decode()
    return [line.split("\t") for line in out.splitlines()]


def container_of(stack, service: str) -> str:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter",
         f"label=com.docker.compose.project={stack['env']['STUDIO_COMPOSE_PROJECT']}",
         "--filter", f"label=com.docker.compose.service={service}"],
        capture_output=True, text=True).stdout.split()
    assert ids, f"no {service} container"
    return ids[0]


def listening(port: str) -> list[str]:
    ss = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                        text=True).stdout.splitlines()
    return [line.split()[3] for line in ss if line.strip()]


def test_hub_grader_and_site_run_on_postgres(stack):
    out = stack["up"].stdout + stack["up"].stderr
    assert "starting PostgreSQL" in out and "python-foundations" in out
    # the three databases, each owned by its role, each with its part's tables
    owners = dict(sql(stack, "postgres", "SELECT datname, pg_get_userbyid(datdba) FROM "
                      "pg_database WHERE datname LIKE 'studio_%'"))
    assert owners == {db: db for db in DATABASES}
    tables = {db: {r[0] for r in sql(stack, db, "SELECT tablename FROM pg_tables WHERE "
                                      "schemaname = 'public'")} for db in DATABASES}
    assert {"users", "servers", "oauth_clients"} <= tables["studio_hub"]
    assert {"courses", "releases", "submissions", "grading_jobs"} <= tables["studio_grader"]
    assert {"accounts_user", "progress_gradeevent", "wagtailcore_page"} <= tables["studio_cms"]
    # `up` loaded the courses into the grader's database and the site's demo people into its own
    assert {"python-foundations", "data-analysis-pandas"} <= {
        r[0] for r in sql(stack, "studio_grader", "SELECT slug FROM courses")}
    assert {"alan", "ada"} <= {r[0] for r in sql(stack, "studio_cms",
                                                 "SELECT username FROM accounts_user")}
    # ... and no SQLite file beside them
    for service, folder in (("hub", "/srv/studio/data"), ("cms", "/data")):
        found = subprocess.run(["docker", "exec", container_of(stack, service), "find", folder,
                                "-name", "*.sqlite*"], capture_output=True, text=True)
        assert found.returncode == 0 and found.stdout.strip() == "", found


def test_postgres_and_redis_listen_on_loopback_with_passwords(stack):
    env = stack["env"]
    pg_port, redis_port = env["STUDIO_POSTGRES_PORT"], env["STUDIO_REDIS_PORT"]
    for port in (pg_port, redis_port):
        local = listening(port)
        assert local and all(a.startswith("127.0.0.1:") for a in local), (port, local)
    password = env_value(env, "STUDIO_POSTGRES_PASSWORD")
    at = f"host=127.0.0.1 port={pg_port} connect_timeout=5"
    with psycopg.connect(f"{at} user=studio_grader dbname=studio_grader password={password}"
                         ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("studio_grader",)
    # a role reaches its own database only; the superuser never over TCP, not even with
    # the stack's password; a wrong password is refused
    for user, db, pw in (("studio_hub", "studio_cms", password),
                         ("postgres", "postgres", password), ("postgres", "postgres", ""),
                         ("studio_cms", "studio_cms", "wrong")):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(f"{at} user={user} dbname={db} password='{pw}'").close()
    # the superuser as the postgres OS user over the socket: what the backup code runs
    dump = compose_exec(stack, "postgres", "pg_dump", "-U", "postgres", "-Fc",
                        "studio_grader").stdout
    assert dump.startswith(b"PGDMP") and b"grading_jobs" in dump
    # redis wants its password (redis-cli in its container has it in REDISCLI_AUTH)
    assert compose_exec(stack, "redis", "redis-cli", "-p", redis_port,
                        "ping").stdout.strip() == b"PONG"
    bare = compose_exec(stack, "redis", "env", "-u", "REDISCLI_AUTH", "redis-cli", "-p",
                        redis_port, "ping", check=False)
    assert b"NOAUTH" in bare.stdout + bare.stderr, bare


def test_no_database_password_on_any_command_line(stack):
    seen = stack["command_lines"] | command_lines()
    assert any("postgres -c listen_addresses=127.0.0.1" in line for line in seen)
    assert any("redis-server" in line for line in seen)
    for name in ("STUDIO_POSTGRES_PASSWORD", "STUDIO_REDIS_PASSWORD"):
        value = env_value(stack["env"], name)
        leaks = [line for line in seen if value in line]
        assert not leaks, f"{name} is on a command line: {leaks[0][:200]}"


def test_site_pages_are_cached_in_redis(stack):
    url = f"{stack['public']}/courses/"
    first = requests.get(url, timeout=30)
    assert first.status_code == 200 and "Python Foundations" in first.text
    again = requests.get(url, timeout=30)
    assert again.headers.get("X-Studio-Cache") == "hit", again.headers
    keys = compose_exec(stack, "redis", "redis-cli", "-p", stack["env"]["STUDIO_REDIS_PORT"],
                        "--scan", "--pattern", "*studio:page:*").stdout.decode().split()
    assert keys, "no page of the site in redis"
    # the hit came from redis: without its keys, the next request builds the page again
    compose_exec(stack, "redis", "redis-cli", "-p", stack["env"]["STUDIO_REDIS_PORT"],
                 "flushall")
    assert requests.get(url, timeout=30).headers.get("X-Studio-Cache") == "miss"


def test_learner_signs_in_spawns_and_his_grade_is_in_postgres(stack):
    alan = site_sign_in(stack["public"], "alan", PASSWORD)
    start_server(stack, "alan")  # his learner container, recorded in the hub's database
    assert sql(stack, "studio_hub", "SELECT u.name FROM users u JOIN spawners s ON "
               "s.user_id = u.id WHERE s.server_id IS NOT NULL AND u.name = 'alan'") == [
        ["alan"]]
    h = user_token(stack, "alan")
    course = f"{stack['grader']}/courses/python-foundations"
    r = requests.get(f"{course}/assignments", headers=h, timeout=30)
    assert r.status_code == 200, r.text
    first = sorted(a["assignment"] for a in r.json())[0]
    release = requests.get(f"{course}/assignments/{first}/release", headers=h, timeout=30)
    files = {p: b for p, b in release.json()["files"].items() if p.endswith(".ipynb")}
    r = requests.post(f"{course}/assignments/{first}/submissions", headers=h, timeout=60,
                      json={"files": files})
    assert r.status_code == 201, r.text

    def on_site():
        for c in alan.get(f"{stack['public']}/api/v1/progress/", timeout=10).json():
            for a in c["assignments"] if c["course_id"] == "python-foundations" else []:
                if a.get("assignment_id", a.get("id")) == first and a.get("score") is not None:
                    return a
        return None

    shown = wait_for(on_site, 300, "the grade on the site's progress API", interval=2)
    # the grader's rows of it and the site's, read from PostgreSQL
    graded = sql(stack, "studio_grader",
                 "SELECT s.username, r.auto_score, r.max_score FROM submissions s JOIN "
                 "submission_results r ON r.submission_id = s.id JOIN assignments a ON "
                 f"a.id = s.assignment_id WHERE s.username = 'alan' AND a.slug = '{first}'")
    assert graded and float(graded[-1][1]) == shown["score"], (graded, shown)
    events = sql(stack, "studio_cms",
                 "SELECT e.score, e.max_score FROM progress_gradeevent e JOIN accounts_user u "
                 "ON u.id = e.user_id WHERE u.username = 'alan' AND e.course_id = "
                 f"'python-foundations' AND e.assignment_id = '{first}'")
    assert events and float(events[-1][0]) == shown["score"], (events, shown)


KEPT = {"studio_hub": "SELECT name FROM users ORDER BY name",
        "studio_grader": "SELECT count(*) FROM submissions UNION ALL "
                         "SELECT count(*) FROM releases",
        "studio_cms": "SELECT username FROM accounts_user ORDER BY username"}


def test_down_then_up_finds_the_data_in_postgres(stack):
    env = stack["env"]
    site_sign_in(stack["public"], "grace", PASSWORD)  # a hub user, whatever ran before
    before = {db: sql(stack, db, q) for db, q in KEPT.items()}
    assert ["grace"] in before["studio_hub"]

    # `up` recorded STUDIO_DB in the env file: down and up find PostgreSQL without it
    assert "STUDIO_DB=postgres\n" in open(env["STUDIO_ENV_FILE"]).read()
    env = {k: v for k, v in env.items() if k != "STUDIO_DB"}
    studio(env, "down")
    project = env["STUDIO_COMPOSE_PROJECT"]
    left = subprocess.run(["docker", "ps", "-aq", "--filter",
                           f"label=com.docker.compose.project={project}"],
                          capture_output=True, text=True).stdout.split()
    assert left == [], "containers survived ./studio down"
    assert subprocess.run(["docker", "volume", "inspect", f"{project}_postgres-data"],
                          capture_output=True).returncode == 0

    again = studio(env, "up")
    assert "grader: python-foundations: up to date" in again.stdout
    assert {db: sql(stack, db, q) for db, q in KEPT.items()} == before
    assert hub_user(stack, "grace")["name"] == "grace"
    assert site_sign_in(stack["public"], "grace", PASSWORD)


def test_backup_and_restore_on_postgres(stack, tmp_path):
    """`./studio backup` dumps the three PostgreSQL databases (the postgres-data volume is
    not copied: the dumps carry its data); with every volume of the stack gone, `./studio
    restore` brings the rows back into a new PostgreSQL, and sign-in still works."""
    env = {k: v for k, v in stack["env"].items() if k != "STUDIO_DB"}  # recorded by up
    site_sign_in(stack["public"], "grace", PASSWORD)
    before = {db: sql(stack, db, q) for db, q in KEPT.items()}
    archive = tmp_path / "pg.tar"
    done = studio(env, "backup", str(archive))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["studio_db"] == "postgres", manifest
    for db in DATABASES:
        assert f"postgres/{db}.dump" in names, names
    assert not any("postgres-data" in n for n in names), names
    assert "studio_grader" in done.stderr  # progress names what it dumps

    studio(env, "down")
    project, prefix = env["STUDIO_COMPOSE_PROJECT"], env["STUDIO_PREFIX"]
    volumes = subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True,
                             text=True).stdout.split()
    doomed = [v for v in volumes if v.startswith((f"{project}_", f"{prefix}-home-"))]
    assert f"{project}_postgres-data" in doomed
    subprocess.run(["docker", "volume", "rm", *doomed], check=True, capture_output=True)

    studio(env, "restore", "--yes", str(archive))
    assert {db: sql(stack, db, q) for db, q in KEPT.items()} == before
    assert hub_user(stack, "grace")["name"] == "grace"
    assert site_sign_in(stack["public"], "grace", PASSWORD)
