"""The grader's part of config.d: <STUDIO_CONFIG_D>/grader/*.py run after grader_config.py
(and win over it); the hub's command line wins over both; a broken file stops the grader
with a message naming it. The real GraderApp, started the way the hub starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

INITIALIZE = """
import json, sys
from grader.service.app import GraderApp
from grader.engine.sandbox import DockerSandbox
app = GraderApp()
app.initialize(sys.argv[1:])
sandbox = DockerSandbox(config=app.config)
print(json.dumps({"rate": app.grader_settings.submission_rate,
                  "files": app.grader_settings.max_upload_files,
                  "image": sandbox.image, "mem": sandbox.mem_limit,
                  "log": [sandbox.log_max_size, sandbox.log_max_files]}))
"""


def run_grader(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STUDIO_CONFIG_D": str(tmp_path / "config.d"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "contracts")])}
    for name in ("GRADER_DATABASE_URL", "GRADER_BLOB_DIR"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-c", INITIALIZE, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_grader_files_run_after_its_config_file(tmp_path):
    (tmp_path / "grader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        "c.GraderSettings.submission_rate = 2\nc.GraderSettings.max_upload_files = 7\n"
        "c.DockerSandbox.mem_limit = '256m'\n")
    folder = tmp_path / "config.d" / "grader"
    folder.mkdir(parents=True)
    (folder / "10-rates.py").write_text(
        "c.GraderSettings.submission_rate = 9\n"
        "c.DockerSandbox.image = 'from-config-d'\n"
        "c.DockerSandbox.log_max_size = '2m'\n")
    (folder / "20-more.py").write_text("c.DockerSandbox.log_max_files = c.GraderSettings"
                                       ".submission_rate - 6\n")
    p = run_grader(tmp_path, "--DockerSandbox.image=learner:from-the-hub")
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got == {"rate": 9, "files": 7, "image": "learner:from-the-hub", "mem": "256m",
                   "log": ["2m", 3]}
    assert f"grader: loading config file {folder / '10-rates.py'}" in p.stderr


def test_a_broken_grader_file_stops_the_grader(tmp_path):
    bad = tmp_path / "config.d" / "grader" / "10-bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("c.GraderSettings.submission_rate = = 3\n")
    p = run_grader(tmp_path)
    assert p.returncode == 2
    assert f"grader: config file {bad}, line 1: syntax error" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "grader.sqlite").exists()  # stopped before opening anything
