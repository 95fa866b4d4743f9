"""HTTPS settings (issue #12): one public URL that every other is derived from, and
`./studio up` refusing a TLS setting it cannot serve, before anything is built or started,
with what to do instead. (The HTTPS stack itself: test_https_stack.py.)"""

from __future__ import annotations

import os
import subprocess

import pytest
from stack import ROOT

from hub.settings import StudioConfigError, StudioSettings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("STUDIO_PUBLIC_URL", "STUDIO_PUBLIC_HOST", "STUDIO_PORT", "STUDIO_TLS_ASK_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_public_url_defaults_to_plain_http_on_the_proxy_port(clean_env):
    clean_env.setenv("STUDIO_PORT", "8123")
    s = StudioSettings()
    assert s.public_url == "http://localhost:8123"
    assert s.tls_ask_port == 0


def test_public_url_behind_the_tls_front(clean_env):
    clean_env.setenv("STUDIO_PUBLIC_HOST", "learn.example.org")
    clean_env.setenv("STUDIO_PUBLIC_URL", "https://learn.example.org/")
    clean_env.setenv("STUDIO_TLS_ASK_PORT", "8084")
    s = StudioSettings()
    assert s.public_url == "https://learn.example.org"
    assert s.site_url == "https://learn.example.org"  # the site's default follows it
    assert s.tls_ask_port == 8084


@pytest.mark.parametrize("url,says", [
    ("https://other.example.org", "names another host than STUDIO_PUBLIC_HOST"),
    ("learn.example.org", "is not a public URL"),
    ("https://learn.example.org/hub/", "without a path"),
])
def test_a_wrong_public_url_is_refused(clean_env, url, says):
    clean_env.setenv("STUDIO_PUBLIC_HOST", "learn.example.org")
    clean_env.setenv("STUDIO_PUBLIC_URL", url)
    with pytest.raises(StudioConfigError, match=says):
        StudioSettings()


def up(tmp_path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_TLS", "STUDIO_ACME"))
            and k not in ("STUDIO_DEMO", "STUDIO_PUBLIC_HOST", "STUDIO_BIND_IP")}
    full.update(STUDIO_ENV_FILE=str(tmp_path / "studio.env"),
                STUDIO_COMPOSE_PROJECT="lstls-never-started", **env)
    return subprocess.run([str(ROOT / "studio"), "up"], env=full, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("env,says", [
    ({"STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_TLS": "yes"},
     "STUDIO_TLS=yes is not a TLS mode: use acme"),
    ({"STUDIO_TLS": "acme"}, "no ACME certificate authority issues certificates for localhost"),
    ({"STUDIO_PUBLIC_HOST": "203.0.113.7"}, "needs a domain name in STUDIO_PUBLIC_HOST"),
    ({"STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_TLS": "own"},
     "STUDIO_TLS=own needs STUDIO_TLS_CERT and STUDIO_TLS_KEY"),
    ({"STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_TLS": "own",
      "STUDIO_TLS_CERT": "/nonexistent/cert.pem", "STUDIO_TLS_KEY": "/nonexistent/key.pem"},
     "STUDIO_TLS_CERT=/nonexistent/cert.pem: no readable file"),
    ({"STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_ACME_CA_ROOT": "ca.pem"},
     "STUDIO_ACME_CA_ROOT=ca.pem: no readable file at that absolute path"),
    ({"STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_HTTPS_PORT": "https"},
     "STUDIO_HTTPS_PORT=https is not a port number"),
])
def test_up_refuses_a_tls_setting_it_cannot_serve(tmp_path, env, says):
    out = up(tmp_path, **env)
    assert out.returncode == 1
    assert says in out.stderr, out.stderr
    # refused before anything: no secrets generated, nothing built or started
    assert not (tmp_path / "studio.env").exists()
    assert "==>" not in out.stderr
