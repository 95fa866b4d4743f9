"""The site's settings as the stack starts them (studio_site.settings.production, in a
fresh process): the OpenAI names for AI, their deprecated aliases with a warning, and the
operator's config.d/site files, read after everything else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fake_openai import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name, None) for name in (
    "AI_API_KEY", "AI_BASE_URL", "AI_MODEL", "WAGTAIL_SITE_NAME", "LS_PAGE_CACHE_SECONDS",
    "CONFIG_D_FILES", "DEBUG")}))
"""

AI_NAMES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "LS_AI_API_KEY",
            "LS_AI_BASE_URL", "LS_AI_MODEL", "STUDIO_AI_API_KEY", "STUDIO_AI_BASE_URL",
            "STUDIO_AI_MODEL", "STUDIO_CONFIG_D")


def site_process(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in AI_NAMES}
    base.update({
        "DJANGO_SETTINGS_MODULE": "studio_site.settings.production",
        "LS_CMS_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SECRET_KEY": "test-only",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "cms"), str(ROOT), str(ROOT / "contracts")]),
    })
    base.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=base,
                          capture_output=True, text=True, timeout=120)


def show(tmp_path: Path, **env: str) -> tuple[dict, str]:
    p = site_process(tmp_path, SHOW, **env)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr


def test_ai_settings_have_the_openai_names(tmp_path):
    got, log = show(tmp_path, OPENAI_API_KEY="sk-standard", OPENAI_BASE_URL="http://ai.test/v1",
                    OPENAI_MODEL="local-model")
    assert (got["AI_API_KEY"], got["AI_BASE_URL"], got["AI_MODEL"]) == (
        "sk-standard", "http://ai.test/v1", "local-model")
    assert "deprecated" not in log


def test_the_old_names_still_work_and_say_what_to_rename(tmp_path):
    # the site's own old name, data/studio.env's old name, and an old name beside a new one
    got, log = show(tmp_path, LS_AI_API_KEY="sk-old", STUDIO_AI_MODEL="old-model",
                    OPENAI_BASE_URL="http://new.test/v1", STUDIO_AI_BASE_URL="http://old.test")
    assert (got["AI_API_KEY"], got["AI_MODEL"], got["AI_BASE_URL"]) == (
        "sk-old", "old-model", "http://new.test/v1")
    assert "LS_AI_API_KEY is deprecated: rename it to OPENAI_API_KEY (same value)." in log
    assert "STUDIO_AI_MODEL is deprecated: rename it to OPENAI_MODEL (same value)." in log
    assert ("STUDIO_AI_BASE_URL is deprecated and ignored: OPENAI_BASE_URL is set. "
            "Remove STUDIO_AI_BASE_URL.") in log


def test_openai_base_url_alone_reaches_the_endpoint(tmp_path):
    """The real openai client, configured only by the environment as the stack does."""
    code = ("import django; django.setup()\n"
            "from studio_site.ai.client import complete\n"
            "print(complete('You write titles.', 'A title about loops'))\n")
    with FakeOpenAIServer() as server:
        server.reply = "Loops, gently"
        p = site_process(tmp_path, code, OPENAI_BASE_URL=server.base_url,
                         OPENAI_MODEL="tiny-local")
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip().splitlines()[-1] == "Loops, gently"
    assert [r["body"]["model"] for r in server.requests] == ["tiny-local"]


def test_site_files_in_config_d_override_the_settings(tmp_path):
    folder = tmp_path / "config.d" / "site"
    folder.mkdir(parents=True)
    (folder / "10-name.py").write_text("WAGTAIL_SITE_NAME = 'Physics Club'\n"
                                       "LS_PAGE_CACHE_SECONDS = 60\n_private = 1\n")
    (folder / "20-model.py").write_text("AI_MODEL = AI_MODEL + '-for-' + WAGTAIL_SITE_NAME\n")
    (tmp_path / "config.d" / "hub").mkdir()
    (tmp_path / "config.d" / "hub" / "10-hub.py").write_text("this is the hub's, not read\n")
    got, _ = show(tmp_path, STUDIO_CONFIG_D=str(tmp_path / "config.d"), OPENAI_MODEL="m")
    assert got["AI_API_KEY"] == got["AI_BASE_URL"] == ""  # AI off: no key, no endpoint
    assert got["WAGTAIL_SITE_NAME"] == "Physics Club"
    assert got["LS_PAGE_CACHE_SECONDS"] == 60
    assert got["AI_MODEL"] == "m-for-Physics Club"
    assert got["DEBUG"] is False
    assert got["CONFIG_D_FILES"] == [str(folder / "10-name.py"), str(folder / "20-model.py")]


def test_a_broken_site_file_stops_the_site(tmp_path):
    bad = tmp_path / "config.d" / "site" / "10-bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("WAGTAIL_SITE_NAME = 'Physics Club\n")
    p = site_process(tmp_path, SHOW, STUDIO_CONFIG_D=str(tmp_path / "config.d"))
    assert p.returncode == 2
    assert (f"Learning Studio site cannot start: config file {bad}, line 1: syntax error"
            in p.stderr)
    assert "Traceback" not in p.stderr
