"""The stack's PostgreSQL image (images/postgres) on its own, a container per test: its
roles take a new STUDIO_POSTGRES_PASSWORD at the next start, the data survives a new
container on the same volume, and data of another major version is refused with advice.
(The whole stack on it: test_compose_stack_postgres.py.)"""

from __future__ import annotations

import os
import secrets

import docker
import psycopg
import pytest
from stack import free_port, remove_by_prefix, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]
IMAGE = os.environ.get("STUDIO_POSTGRES_IMAGE", "learning-studio/postgres:latest")


@pytest.fixture
def server():
    client = docker.from_env()
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{IMAGE} is missing: images/build.sh postgres (./studio test builds it)")
    prefix = f"lspgimg{secrets.token_hex(3)}"
    port = free_port()
    volume = client.volumes.create(f"{prefix}-data")

    def start(password: str):
        for old in client.containers.list(all=True, filters={"name": f"^{prefix}-"}):
            old.stop(timeout=10)
            old.remove()
        return client.containers.run(
            IMAGE, name=f"{prefix}-{secrets.token_hex(2)}", detach=True, network_mode="host",
            environment={"STUDIO_POSTGRES_PASSWORD": password, "PGPORT": str(port)},
            volumes={volume.name: {"bind": "/var/lib/postgresql/data", "mode": "rw"}})

    try:
        yield start, port, volume
    finally:
        remove_by_prefix(client, prefix)


def connect(port: int, password: str, db: str = "studio_grader"):
    return psycopg.connect(host="127.0.0.1", port=port, user=db, dbname=db,
                           password=password, connect_timeout=3)


def ready(port: int, password: str):
    try:
        connect(port, password).close()
        return True
    except psycopg.OperationalError:
        return False


def test_a_new_password_takes_effect_and_the_data_stays(server):
    start, port, _ = server
    start("first-password")
    wait_for(lambda: ready(port, "first-password"), 60, "PostgreSQL with the first password",
             interval=0.5)
    with connect(port, "first-password") as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    start("second-password")  # a new container on the same volume
    wait_for(lambda: ready(port, "second-password"), 60, "PostgreSQL with the new password",
             interval=0.5)
    with connect(port, "second-password") as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("still here",)]
    for db in ("studio_hub", "studio_cms"):
        connect(port, "second-password", db).close()
    with pytest.raises(psycopg.OperationalError):
        connect(port, "first-password").close()


def test_data_of_another_major_version_is_refused_with_advice(server):
    start, port, volume = server
    docker.from_env().containers.run(
        IMAGE, entrypoint=["sh", "-c", "echo 14 > $PGDATA/PG_VERSION"], remove=True,
        volumes={volume.name: {"bind": "/var/lib/postgresql/data", "mode": "rw"}})
    container = start("a-password")
    assert container.wait(timeout=60)["StatusCode"] == 1
    log = container.logs().decode()
    assert "the data in the volume is PostgreSQL 14's" in log and "pg_dump" in log, log
