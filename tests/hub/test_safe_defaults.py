"""`./studio up` on a host other machines reach (issue #12): the demo accounts and the
shared password are refused at once, before anything is built or started, with what to
do instead. (On such a host, without them, `up` creates the first administrator with a
generated password: tests/cms/test_site_safe_defaults.py; the local demo: test_compose_stack.)"""

from __future__ import annotations

import os
import subprocess

import pytest
from stack import ROOT


def up(tmp_path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()
            if k not in ("STUDIO_DEMO", "STUDIO_DEMO_PASSWORD", "STUDIO_LOGIN",
                         "STUDIO_PUBLIC_HOST", "STUDIO_BIND_IP")}
    full.update(STUDIO_ENV_FILE=str(tmp_path / "studio.env"),
                STUDIO_COMPOSE_PROJECT="lssafe-never-started", **env)
    return subprocess.run([str(ROOT / "studio"), "up"], env=full, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("env,says", [
    ({"STUDIO_PUBLIC_HOST": "class.example.org", "STUDIO_DEMO": "1"},
     "STUDIO_DEMO=1 asks for the demo accounts"),
    ({"STUDIO_PUBLIC_HOST": "203.0.113.7", "STUDIO_DEMO": "yes"},
     "STUDIO_DEMO=yes asks for the demo accounts"),
    ({"STUDIO_BIND_IP": "0.0.0.0", "STUDIO_DEMO": "1"}, "STUDIO_BIND_IP=0.0.0.0"),
    ({"STUDIO_PUBLIC_HOST": "class.example.org", "STUDIO_DEMO_PASSWORD": "letmein"},
     "STUDIO_DEMO_PASSWORD is set"),
    ({"STUDIO_PUBLIC_HOST": "class.example.org", "STUDIO_LOGIN": "password"},
     "STUDIO_LOGIN=password signs everyone in with one shared password"),
])
def test_up_refuses_the_demo_on_a_reachable_host(tmp_path, env, says):
    out = up(tmp_path, **env)
    assert out.returncode == 1
    assert says in out.stderr, out.stderr
    assert "reachable from other machines" in out.stderr
    # refused before anything: no secrets generated, nothing built or started
    assert not (tmp_path / "studio.env").exists()
    assert "==>" not in out.stderr
