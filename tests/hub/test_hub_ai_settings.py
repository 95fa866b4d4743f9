"""The hub passes the stack's AI settings to the grader, in its environment only."""

from __future__ import annotations

from hub import setup
from hub.settings import StudioSettings


def test_the_grader_gets_the_ai_settings_in_its_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_GRADER_MEM_LIMIT", "")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    monkeypatch.setenv("STUDIO_AI_MODEL", "old-name-model")
    service = setup.grader_service(StudioSettings(), "http://10.0.0.1:8082")
    env = service["environment"]
    assert env["OPENAI_API_KEY"] == "sk-secret-key"
    assert env["OPENAI_BASE_URL"] == "http://127.0.0.1:11434/v1"
    assert env["OPENAI_MODEL"] == "old-name-model"  # the deprecated name still counts
    assert not any("sk-secret-key" in part for part in service["command"])


def test_no_ai_settings_no_ai_environment():
    assert setup.ai_environment({"PATH": "/bin"}) == {}
    assert setup.ai_environment({"OPENAI_MODEL": "m", "STUDIO_AI_MODEL": "old"}) == {
        "OPENAI_MODEL": "m"}
