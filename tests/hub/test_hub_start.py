"""The hub's start: bad settings stop it with a clear message; the bare address redirects."""

import subprocess
import sys

import pytest
import requests
from stack import ROOT, Stack

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def start_hub_expecting_failure(tmp_path, **env) -> str:
    stack = Stack(tmp_path, **env)
    p = subprocess.run(
        [sys.executable, "-m", "hub", "-f", str(ROOT / "jupyterhub_config.py")],
        cwd=tmp_path, env=stack.env, capture_output=True, text=True, timeout=60,
    )
    stack.cleanup_docker()
    assert p.returncode != 0, "the hub started with a bad setting"
    return p.stderr


def test_unknown_learner_image_stops_the_hub(tmp_path):
    err = start_hub_expecting_failure(tmp_path, STUDIO_LEARNER_IMAGE="learning-studio/nope:1")
    assert "learner image 'learning-studio/nope:1' is not on this Docker engine" in err
    assert "./studio build" in err
    assert "Traceback" not in err


def test_nonsense_memory_limit_stops_the_hub(tmp_path):
    err = start_hub_expecting_failure(tmp_path, STUDIO_MEM_LIMIT="lots")
    assert "memory limit 'lots' is not a size" in err
    assert "Traceback" not in err


def test_a_broken_config_d_file_stops_the_hub(tmp_path):
    bad = tmp_path / "config.d" / "hub" / "50-admins.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("c.Authenticator.admin_users = {'ada',\n")
    err = start_hub_expecting_failure(tmp_path, STUDIO_CONFIG_D=str(tmp_path / "config.d"))
    assert f"Learning Studio cannot start: config file {bad}, line 1: syntax error" in err
    assert "Fix or remove the file" in err
    assert "Traceback" not in err


def test_unreachable_docker_stops_the_hub(tmp_path):
    err = start_hub_expecting_failure(tmp_path, DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert "cannot reach the Docker engine" in err


def test_bare_address_redirects_to_the_public_host(stack):
    r = requests.get(f"{stack.public_url}/hub/login?next=%2Fhub%2F", allow_redirects=False,
                     timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"] == f"http://localhost:{stack.port}/hub/login?next=%2Fhub%2F"
    # the REST API answers on the bare address too (tokens, not cookies)
    r = stack.admin("GET", "users/alan")
    assert r.status_code == 200 and r.json()["name"] == "alan"
    # the public host itself serves the login page
    r = requests.get(f"http://localhost:{stack.port}/hub/login", timeout=10)
    assert r.status_code == 200 and "password" in r.text.lower()
