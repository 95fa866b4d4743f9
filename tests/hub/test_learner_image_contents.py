"""The learner image: what it must carry, and what it must not (start-up time)."""

import json
import os

import docker
import jupyterhub
import pytest

pytestmark = [pytest.mark.docker]

# the image the stack would run (STUDIO_LEARNER_IMAGE), as tests/extensions/ do
IMAGE = os.environ.get("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest")
HUB_IMAGE = os.environ.get("STUDIO_HUB_IMAGE", "learning-studio/hub:latest")


def run(*cmd: str) -> str:
    out = docker.from_env().containers.run(IMAGE, list(cmd), remove=True, network_mode="none")
    return out.decode()


def test_jupyterhub_in_the_image_is_the_hubs_version():
    assert run("python3", "-c", "import jupyterhub; print(jupyterhub.__version__)").strip() \
        == jupyterhub.__version__


def test_learner_packages_are_there_and_run_as_non_root():
    out = run("python3", "-c", "import json, os, jupyterlab, nbgrader, numpy, pandas, "
              "matplotlib, ipykernel; print(json.dumps([os.getuid(), jupyterlab.__version__]))")
    uid, lab = json.loads(out)
    assert uid == 1000 and lab.startswith("4.")


def test_slow_optional_format_checker_is_absent():
    # jsonschema's rfc3987-syntax checker costs ~0.8 s at every server start
    out = run("python3", "-c", "import importlib.util as u; "
              "print(u.find_spec('rfc3987_syntax') is None)")
    assert out.strip() == "True"


def test_only_the_server_extensions_learners_use_are_loaded():
    # what a starting server actually loads (the list command ignores .py config files)
    log = run("sh", "-c", "(jupyter server --ServerApp.ip=127.0.0.1 --IdentityProvider.token=x "
              "--no-browser > /tmp/log 2>&1 &); sleep 6; cat /tmp/log")
    loaded = {line.split("|")[0].split("]")[-1].strip()
              for line in log.splitlines() if "extension was successfully loaded" in line}
    assert {"jupyterlab", "learning_studio_lab"} <= loaded, log[-2000:]
    assert not {"nbgrader.server_extensions.formgrader", "notebook", "jupyter_lsp"} & loaded


@pytest.mark.parametrize("image,every", [(IMAGE, True), (HUB_IMAGE, False)])
def test_the_images_have_the_locked_grading_libraries(image, every):
    # the sandbox (this image) has every locked library; the grader's image (the hub's)
    # those it has (nbgrader, nbclient, nbconvert ... but no numpy) at the same versions
    from test_grading_lock import LOCK, grading_lock

    freeze = docker.from_env().containers.run(
        image, ["/opt/studio/bin/pip", "freeze"], entrypoint=[], remove=True,
        network_mode="none").decode()
    installed = grading_lock.parse_freeze(freeze)
    pins = grading_lock.parse_lock(LOCK.read_text())
    assert grading_lock.compare(pins, installed, require_all=every) == []
    assert installed["nbgrader"] == pins["nbgrader"] and installed["nbclient"] == pins["nbclient"]
