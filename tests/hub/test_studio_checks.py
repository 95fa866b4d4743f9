"""`./studio up` checks the log rotation settings before it builds or starts anything, and
names the deprecated AI settings (issue #12)."""

from __future__ import annotations

import os
import subprocess

import pytest
from stack import ROOT


def up(tmp_path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("STUDIO_LOG_MAX", "STUDIO_AI_", "OPENAI_"))}
    full.update(STUDIO_ENV_FILE=str(tmp_path / "studio.env"),
                STUDIO_COMPOSE_PROJECT="lschecks-never-started", **env)
    return subprocess.run([str(ROOT / "studio"), "up"], env=full, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("env,says", [
    ({"STUDIO_LOG_MAX_SIZE": "lots"},
     "STUDIO_LOG_MAX_SIZE=lots is not a log size: use a number with k, m or g, such as 10m"),
    ({"STUDIO_LOG_MAX_FILES": "0"},
     "STUDIO_LOG_MAX_FILES=0 is not a number of files: use 1 or more, such as 5"),
])
def test_up_refuses_bad_log_rotation_before_anything(tmp_path, env, says):
    out = up(tmp_path, **env)
    assert out.returncode == 1
    assert says in out.stderr, out.stderr
    assert not (tmp_path / "studio.env").exists()  # nothing generated, built or started
    assert "==> installing" not in out.stderr and "starting" not in out.stderr


def test_up_names_the_deprecated_ai_settings(tmp_path):
    (tmp_path / "studio.env").write_text("STUDIO_AI_API_KEY=sk-old\nSTUDIO_LOG_MAX_SIZE=big\n")
    out = up(tmp_path, STUDIO_AI_MODEL="old-model")
    assert out.returncode == 1  # stopped by the bad size from the env file
    assert "STUDIO_LOG_MAX_SIZE=big is not a log size" in out.stderr, out.stderr
    err = out.stderr
    assert "warning: STUDIO_AI_API_KEY is deprecated; rename it to OPENAI_API_KEY" in err
    assert "warning: STUDIO_AI_MODEL is deprecated; rename it to OPENAI_MODEL" in err
    assert "STUDIO_AI_BASE_URL" not in err
