"""The hub's part of config.d: its files run after Learning Studio's own configuration,
see it, win over it, and the grader gets the folder (its part runs there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from hub import setup
from hub.settings import StudioConfigError, StudioSettings


@pytest.fixture
def settings(monkeypatch, tmp_path) -> StudioSettings:
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_CONFIG_D", str(tmp_path / "config.d"))
    (tmp_path / "config.d" / "hub").mkdir(parents=True)
    return StudioSettings()


def test_hub_files_run_after_the_studio_config_and_win(settings, tmp_path):
    folder = tmp_path / "config.d" / "hub"
    (folder / "10-spawner.py").write_text(
        "c.StudioSpawner.mem_limit = '2G'\n"
        "c.JupyterHub.services.append({'name': 'announcements', 'url': 'http://127.0.0.1:9'})\n")
    (folder / "20-after.py").write_text("c.Spawner.environment['COURSE_YEAR'] = '2026'\n")
    c = Config()
    # what _configure has set by then
    c.StudioSpawner.mem_limit = settings.mem_limit
    c.Spawner.environment = {"STUDIO_COURSE_NETWORK_POLICY": "closed"}
    c.JupyterHub.services = [{"name": "grader"}]
    files = setup.load_config_d(c, settings)
    assert [p.name for p in files] == ["10-spawner.py", "20-after.py"]
    assert c.StudioSpawner.mem_limit == "2G"
    assert [s["name"] for s in c.JupyterHub.services] == ["grader", "announcements"]
    assert c.Spawner.environment == {"STUDIO_COURSE_NETWORK_POLICY": "closed",
                                     "COURSE_YEAR": "2026"}


def test_studio_settings_in_config_d_are_refused_with_advice(settings, tmp_path):
    (tmp_path / "config.d" / "hub" / "10-late.py").write_text(
        "c.StudioSettings.mem_limit = '2G'\n")
    with pytest.raises(StudioConfigError, match=r"10-late.py sets c.StudioSettings.*"
                       r"STUDIO_\* variables in data/studio.env"):
        setup.load_config_d(Config(), settings)


def test_a_broken_hub_file_is_a_config_error(settings, tmp_path):
    bad = tmp_path / "config.d" / "hub" / "10-bad.py"
    bad.write_text("c.JupyterHub.admin_users = {'ada'\n")
    with pytest.raises(StudioConfigError, match=f"config file {bad}, line 1: syntax error"):
        setup.load_config_d(Config(), settings)


def test_no_folder_no_files(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("STUDIO_CONFIG_D", raising=False)
    assert setup.load_config_d(Config(), StudioSettings()) == []


def test_the_grader_gets_the_folder_and_the_log_rotation(settings, monkeypatch):
    monkeypatch.setenv("STUDIO_GRADER_MEM_LIMIT", "2g")
    monkeypatch.setenv("STUDIO_LOG_MAX_SIZE", "20m")
    monkeypatch.setenv("STUDIO_LOG_MAX_FILES", "3")
    monkeypatch.setattr(setup, "own_container_id", lambda: "0" * 64)
    s = StudioSettings()
    service = setup.grader_service(s, "http://10.0.0.1:8082")
    assert service["environment"]["STUDIO_CONFIG_D"] == s.config_d
    command = service["command"]
    assert "--log-max-size=20m" in command and "--log-max-files=3" in command
    assert command.index("--log-max-files=3") < command.index("--")
    assert s.log_config == {"type": "json-file", "config": {"max-size": "20m", "max-file": "3"}}


def test_the_documented_example_loads(monkeypatch, tmp_path):
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples" / "config.d"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_CONFIG_D", str(examples))
    c = Config()
    c.Spawner.environment = {"STUDIO_COURSE_NETWORK_POLICY": "closed"}
    setup.load_config_d(c, StudioSettings())
    assert c.StudioSpawner.mem_limit == "2G" and c.Authenticator.admin_users == {"ada", "grace"}
    assert c.Spawner.environment["COURSE_YEAR"] == "2026"
