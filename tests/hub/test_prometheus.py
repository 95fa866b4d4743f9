"""The stack's Prometheus image: Debian's prometheus, the configuration its entrypoint
writes, and the alerts of the operator's guide, unit-tested with promtool (they fire on
the series they are meant for, after their `for`, and not before). The image scraping a
running stack is tested in test_compose_stack.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]
IMAGE = os.environ.get("STUDIO_PROMETHEUS_IMAGE", "learning-studio/prometheus:latest")
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def image():
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode:
        pytest.fail(f"image {IMAGE} is missing: images/build.sh prometheus "
                    "(STUDIO_MONITORING=1 ./studio up builds it)")
    return IMAGE


def run(image: str, *args: str, env: dict | None = None, entrypoint: str | None = None):
    cmd = ["docker", "run", "--rm", "--network", "none",
           "-v", f"{HERE / 'prometheus'}:/tests:ro"]
    for k, v in (env or {}).items():
        cmd += ["-e", f"{k}={v}"]
    if entrypoint:
        cmd += ["--entrypoint", entrypoint]
    return subprocess.run([*cmd, image, *args], capture_output=True, text=True, timeout=120)


def test_the_alert_rules_fire_when_they_should(image):
    p = run(image, "test", "rules", "/tests/alerts_test.yml", entrypoint="promtool")
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_written_configuration_is_valid_with_the_token_in_a_private_file(image):
    # the entrypoint writes the configuration, then runs `prometheus "$@"`; here the
    # arguments make it stop at once after checking (an unknown flag would say so)
    script = ('/usr/local/bin/prometheus-entrypoint --version >/dev/null && '
              'c=/tmp/learning-studio-prometheus && promtool check config $c/prometheus.yml '
              '&& cat $c/prometheus.yml && stat -c %a $c/token')
    p = run(image, "-c", script, entrypoint="/bin/sh",
            env={"STUDIO_METRICS_TOKEN": "s3cret-token", "STUDIO_PORT": "8123",
                 "STUDIO_GRADER_METRICS_PORT": "8124", "STUDIO_CMS_PORT": "8125"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS" in p.stdout + p.stderr
    for target in ("127.0.0.1:8123", "127.0.0.1:8124", "127.0.0.1:8125"):
        assert target in p.stdout
    assert "s3cret-token" not in p.stdout  # in a file of its own, mode 0600
    assert "\n600\n" in p.stdout


def test_without_the_token_it_says_what_to_do(image):
    p = run(image)
    assert p.returncode != 0
    assert "STUDIO_METRICS_TOKEN" in p.stderr and "./studio up" in p.stderr
