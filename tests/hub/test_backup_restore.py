"""`./studio backup`, `./studio restore` and `./studio upgrade` on a real compose stack.

One stack (the demo, `./studio up`) serves the module. It gets what an installation keeps:
a learner's graded submission with an instructor's manual grade (through the grader's
API), a file in the learner's home, a page an editor published on the site. A backup of
it, then every volume destroyed, then a restore: all of it is back. A damaged archive is
refused with nothing touched. Then an upgrade of a stack whose grader and site schemas are
one migration behind brings them to the newest, with the data kept.
"""

import hashlib
import io
import json
import os
import secrets
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests
from stack import (
    ROOT,
    compose_down,
    compose_env,
    env_value,
    release_homes,
    site_sign_in,
    wait_for,
)

# the grader's newest migration, read from the code (each new migration moves it)
GRADER_HEAD = max(p.stem for p in (ROOT / "grader/service/migrations/versions").glob("0*.py"))

LEARNER_IMAGE = os.environ.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest")
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1500)]
PASSWORD = "learn-with-notebooks"
COURSE = "python-foundations"
HUB_IMAGE = os.environ.get("STUDIO_HUB_IMAGE", "learning-studio/hub:latest")
CMS_IMAGE = os.environ.get("STUDIO_CMS_IMAGE", "learning-studio/cms:latest")


def studio(env, *args, check=True, timeout=900, merged=False) -> subprocess.CompletedProcess:
    """Run ./studio; merged: its standard error into its output, in the order written."""
    p = subprocess.run([str(ROOT / "studio"), *args], env=env, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT if merged else subprocess.PIPE)
    if check:
        assert p.returncode == 0, f"./studio {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("backup")
    env = compose_env(
        "lstb", work / "studio.env", STUDIO_MONITORING=None,
        # learners' home images (the home quota is on by default) in this test's folder
        STUDIO_HOMES_DIR=str(work / "homes"),
    )
    try:
        studio(env, "up")
        port = env["STUDIO_PORT"]
        yield {"env": env, "work": work, "port": port, "public": f"http://localhost:{port}",
               "api": f"http://127.0.0.1:{port}/hub/api",
               "grader": f"http://grader--service.localhost:{port}/services/grader/api",
               "admin": {"Authorization": f"token {env_value(env, 'STUDIO_ADMIN_TOKEN')}"}}
    finally:
        compose_down(env)


def hub_user(stack, name: str) -> requests.Response:
    return requests.get(f"{stack['api']}/users/{name}", headers=stack["admin"], timeout=10)


def user_token(stack, name: str) -> dict:
    r = requests.post(f"{stack['api']}/users/{name}/tokens", headers=stack["admin"], json={},
                      timeout=10)
    assert r.status_code == 201, r.text
    return {"Authorization": f"token {r.json()['token']}"}


def start_server(stack, name: str) -> None:
    r = requests.post(f"{stack['api']}/users/{name}/server", headers=stack["admin"], timeout=60)
    assert r.status_code in (201, 202, 400), r.text  # 400: already running
    wait_for(lambda: hub_user(stack, name).json()["servers"].get("", {}).get("ready"), 120,
             f"{name}'s server")


def container_of(stack, service: str) -> str:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter",
         f"label=com.docker.compose.project={stack['env']['STUDIO_COMPOSE_PROJECT']}",
         "--filter", f"label=com.docker.compose.service={service}"],
        capture_output=True, text=True).stdout.split()
    assert ids, f"no {service} container"
    return ids[0]


def submission(stack, sub_id: int, headers: dict) -> dict:
    r = requests.get(f"{stack['grader']}/submissions/{sub_id}", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def stack_volumes(stack) -> list[str]:
    env = stack["env"]
    names = subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True,
                           text=True).stdout.split()
    return sorted(n for n in names if n.startswith((f"{env['STUDIO_COMPOSE_PROJECT']}_",
                                                    f"{env['STUDIO_PREFIX']}-home-")))


@pytest.fixture(scope="module")
def installation(stack):
    """What an installation keeps, made the way people make it; then a backup of it."""
    site_sign_in(stack["public"], "alan", PASSWORD)
    site_sign_in(stack["public"], "ada", PASSWORD)
    alan, ada = user_token(stack, "alan"), user_token(stack, "ada")
    course = f"{stack['grader']}/courses/{COURSE}"
    first = sorted(a["assignment"] for a in requests.get(
        f"{course}/assignments", headers=alan, timeout=30).json())[0]
    release = requests.get(f"{course}/assignments/{first}/release", headers=alan, timeout=30)
    files = {p: b for p, b in release.json()["files"].items() if p.endswith(".ipynb")}
    r = requests.post(f"{course}/assignments/{first}/submissions", headers=alan, timeout=60,
                      json={"files": files})
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    graded = wait_for(lambda: (s := submission(stack, sub_id, ada))["status"] == "graded" and s,
                      300, "the submission graded", interval=2)
    cell = graded["cells"][0]
    r = requests.put(f"{stack['grader']}/submissions/{sub_id}/grades/{cell['notebook']}/"
                     f"{cell['cell_id']}", headers=ada, timeout=30,
                     json={"score": cell["max_score"], "comment": "kept by the backup"})
    assert r.status_code == 200, r.text

    start_server(stack, "alan")
    url = f"http://alan.localhost:{stack['port']}/user/alan/api/contents/kept.txt"
    r = requests.put(url, headers=alan, timeout=10,
                     json={"type": "file", "format": "text", "content": "my own notes"})
    assert r.status_code in (200, 201), r.text

    slug = f"backed-up-{secrets.token_hex(3)}"
    made = subprocess.run(
        ["docker", "exec", container_of(stack, "cms"), "cms-entrypoint", "manage", "shell",
         "-c", f"""
from wagtail.rich_text import RichText
from studio_site.blog.models import BlogIndexPage, BlogPage
post = BlogPage(title="Kept by the backup", slug="{slug}", intro="An editor's post",
                body=[("paragraph", RichText("<p>A sentence worth keeping.</p>"))])
BlogIndexPage.objects.first().add_child(instance=post)
post.save_revision().publish()
print("page-url", post.url_path)"""],
        capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    page = f"{stack['public']}/blog/{slug}/"
    assert "A sentence worth keeping." in requests.get(page, timeout=30).text

    archive = stack["work"] / "backups" / "studio-test.tar"
    done = studio(stack["env"], "backup", str(archive))
    return {"archive": archive, "backup": done, "submission": sub_id, "cell": cell,
            "file_url": url, "page": page, "assignment": first}


def test_backup_is_one_archive_with_a_manifest(stack, installation):
    archive, out = installation["archive"], installation["backup"]
    assert out.stdout.strip() == str(archive)
    # progress: each database (copied online), each volume, the total
    assert "database hub-data/grader/grader.sqlite" in out.stderr, out.stderr
    assert "database hub-data/jupyterhub.sqlite" in out.stderr
    assert "database cms-data/cms.sqlite3" in out.stderr
    assert "volume home-alan:" in out.stderr and "backup written" in out.stderr
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # it holds the secrets
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        env_copy = tar.extractfile("studio.env").read()
    assert names[0] == "manifest.json"
    assert {"studio.env", "volumes/hub-data.tar.gz", "volumes/cms-data.tar.gz",
            "volumes/home-alan.tar.gz"} <= set(names)
    assert env_copy == open(stack["env"]["STUDIO_ENV_FILE"], "rb").read()
    assert manifest["format_version"] == 1 and manifest["studio_db"] == "sqlite"
    assert "alan" in manifest["learners"]
    vols = {v["key"]: v for v in manifest["volumes"]}
    assert vols["home-alan"]["name"] == f"{stack['env']['STUDIO_PREFIX']}-home-alan"
    assert vols["hub-data"]["driver"] == "local"
    schemas = {d["path"]: d["schema"] for d in manifest["databases"]}
    assert schemas["grader/grader.sqlite"]["alembic"] == [GRADER_HEAD]
    assert schemas["jupyterhub.sqlite"]["alembic"]
    assert "community" in schemas["cms.sqlite3"]["django"]


def test_restore_after_every_volume_is_gone(stack, installation):
    env = stack["env"]
    studio(env, "down")
    doomed = stack_volumes(stack)
    assert f"{env['STUDIO_PREFIX']}-home-alan" in doomed
    subprocess.run(["docker", "volume", "rm", *doomed], check=True, capture_output=True)
    assert stack_volumes(stack) == []
    # as on a new machine: the learners' home images (the quota's file systems) are gone too
    homes = Path(env["STUDIO_HOMES_DIR"])
    assert list(homes.glob("*-home-alan.img"))
    import docker

    release_homes(docker.from_env(), str(homes), LEARNER_IMAGE)
    for img in homes.glob("*.img"):
        img.unlink()

    # the env file is there: a restore replaces it, so it asks first
    refused = studio(env, "restore", str(installation["archive"]), check=False)
    assert refused.returncode != 0
    assert "run again with --yes" in refused.stderr, refused.stderr
    assert stack_volumes(stack) == []

    studio(env, "restore", "--yes", str(installation["archive"]))
    assert set(stack_volumes(stack)) == set(doomed)
    # alan's home is made again as the hub makes homes: a file system under the quota
    home = json.loads(subprocess.run(
        ["docker", "volume", "inspect", f"{env['STUDIO_PREFIX']}-home-alan"],
        capture_output=True, text=True, check=True).stdout)[0]
    assert home["Options"]["type"] == "ext4", home
    assert list(homes.glob("*-home-alan.img"))
    # sign-in on the site still works, and the hub still knows its users and groups
    site_sign_in(stack["public"], "alan", PASSWORD)
    user = hub_user(stack, "alan")
    assert user.status_code == 200 and f"learners:{COURSE}" in user.json()["groups"]
    # the submission, its grade and the instructor's manual grade
    sub = submission(stack, installation["submission"], user_token(stack, "ada"))
    assert sub["status"] == "graded" and sub["assignment"] == installation["assignment"]
    cell = next(c for c in sub["cells"] if c["cell_id"] == installation["cell"]["cell_id"])
    assert cell["manual_score"] == installation["cell"]["max_score"]
    assert cell["comment"] == "kept by the backup"
    # its files come from the blob store
    r = requests.get(f"{stack['grader']}/submissions/{installation['submission']}/files",
                     headers=user_token(stack, "ada"), timeout=30)
    assert r.status_code == 200, r.text
    # the learner's file, in a new container on the restored volume
    start_server(stack, "alan")
    r = requests.get(installation["file_url"], headers=user_token(stack, "alan"), timeout=30)
    assert r.status_code == 200 and r.json()["content"] == "my own notes"
    # the editor's page
    assert "A sentence worth keeping." in requests.get(installation["page"], timeout=30).text


def damaged_copies(archive, work) -> dict:
    data = archive.read_bytes()
    truncated = work / "truncated.tar"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) - 20_000] ^= 0xFF  # inside the last volume's packed bytes
    corrupt = work / "corrupt.tar"
    corrupt.write_bytes(bytes(flipped))
    future = work / "future.tar"
    with tarfile.open(archive) as src, tarfile.open(future, "w") as dst:
        for member in src:
            body = src.extractfile(member).read()
            if member.name == "manifest.json":
                m = json.loads(body)
                m["format_version"] = 99
                body = json.dumps(m).encode()
                member.size = len(body)
            dst.addfile(member, io.BytesIO(body))
    notes = work / "notes.tar"
    with tarfile.open(notes, "w") as dst:
        dst.add(str(ROOT / "README.md"), arcname="README.md")
    return {truncated: "incomplete", corrupt: "damaged", future: "format version 99",
            notes: "not a Learning Studio backup"}


def test_a_damaged_archive_is_refused_and_nothing_is_touched(stack, installation):
    env = stack["env"]
    if hub_user(stack, "alan").status_code != 200:  # after an earlier test left it down
        studio(env, "up")
    before_env = hashlib.sha256(open(env["STUDIO_ENV_FILE"], "rb").read()).hexdigest()
    hub_id, volumes = container_of(stack, "hub"), stack_volumes(stack)
    for path, why in damaged_copies(installation["archive"], stack["work"]).items():
        p = studio(env, "restore", "--yes", str(path), check=False)
        assert p.returncode != 0, p.stdout
        assert why in p.stderr and "nothing here was changed" in p.stderr, p.stderr
        assert "stopping" not in p.stderr  # it never got as far as stopping the stack
    assert hashlib.sha256(open(env["STUDIO_ENV_FILE"], "rb").read()).hexdigest() == before_env
    assert container_of(stack, "hub") == hub_id and stack_volumes(stack) == volumes
    assert hub_user(stack, "alan").status_code == 200


def grader_sql(project: str, statement: str) -> None:
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{project}_hub-data:/srv/studio/data",
         "--entrypoint", "python3", HUB_IMAGE, "-c",
         "import sqlite3, sys; db = sqlite3.connect('/srv/studio/data/grader/grader.sqlite'); "
         "db.execute(sys.argv[1]); db.commit()", statement],
        check=True, capture_output=True)


def hub_user_or_none(stack):
    try:
        return hub_user(stack, "alan")
    except requests.ConnectionError:
        return None


def test_upgrade_migrates_an_older_schema_and_keeps_the_data(stack, installation):
    env, project = stack["env"], stack["env"]["STUDIO_COMPOSE_PROJECT"]
    if hub_user(stack, "alan").status_code != 200:
        studio(env, "up")
    studio(env, "down")
    # the layout of an older release: the grader's and the site's schemas one migration
    # behind, with their data in them
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{project}_hub-data:/srv/studio/data",
         "--entrypoint", "python3", HUB_IMAGE, "-c",
         "from alembic import command; from grader.service.orm import alembic_config; "
         "command.downgrade(alembic_config("
         "'sqlite:////srv/studio/data/grader/grader.sqlite'), '0002_lessons')"],
        check=True, capture_output=True)
    down = subprocess.run(["docker", "run", "--rm", "-v", f"{project}_cms-data:/data",
                           CMS_IMAGE, "manage", "migrate", "community", "0001_initial"],
                          capture_output=True, text=True)
    assert down.returncode == 0 and "Unapplying community.0002" in down.stdout, down.stdout

    # A migration that fails (the column it adds is there already): the upgrade stops
    # there, with the stack down, and says which backup to restore and how.
    grader_sql(project, "ALTER TABLE submission_results ADD COLUMN review_reason TEXT")
    failed = studio(env, "upgrade", timeout=1500, merged=True, check=False)
    out = failed.stdout
    attempt = [b for b in (ROOT / "data" / "backups").glob("studio-*.tar") if str(b) in out]
    for b in attempt:
        b.unlink()
    assert failed.returncode != 0, out[-3000:]
    assert "migrating the grader's database (grader db upgrade) failed" in out, out[-3000:]
    assert attempt and f"./studio restore --yes {attempt[0]}" in out
    assert "Applying community" not in out and "4/4" not in out  # nothing after it ran
    assert hub_user_or_none(stack) is None  # the stack stays down
    grader_sql(project, "ALTER TABLE submission_results DROP COLUMN review_reason")

    log = studio(env, "upgrade", timeout=1500, merged=True).stdout
    # the backup first, and where it is
    backups = sorted((ROOT / "data" / "backups").glob("studio-*.tar"))
    made = [b for b in backups if str(b) in log]
    for b in made:
        b.unlink()  # (this checkout's data/backups/ is the operator's, not the test's)
    assert made, log[-3000:]
    # each migration ran in its own step, before the stack started
    grader_step = log.index("migrating the grader's database")
    assert f"revision {GRADER_HEAD}" in log[grader_step:], log[-3000:]
    assert "Applying community.0002_alter_challenge_assignment_id... OK" in log
    assert log.index("Applying community.0002") < log.index("4/4 starting")
    # and the data is all there
    sub = submission(stack, installation["submission"], user_token(stack, "ada"))
    cell = next(c for c in sub["cells"] if c["cell_id"] == installation["cell"]["cell_id"])
    assert sub["status"] == "graded" and cell["comment"] == "kept by the backup"
    assert "A sentence worth keeping." in requests.get(installation["page"], timeout=30).text
    site_sign_in(stack["public"], "alan", PASSWORD)
