"""Settings: parsing and the clear errors a wrong value gets."""

import pytest

from hub.settings import StudioConfigError, StudioSettings, parse_home_quota, parse_memory


@pytest.mark.parametrize(
    "text,expected",
    [("512M", 512 * 1024**2), ("1G", 1024**3), ("1.5g", int(1.5 * 1024**3)),
     ("2Gi", 2 * 1024**3), ("268435456", 268435456), ("300MB", 300 * 1024**2)],
)
def test_memory_sizes_parse(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["lots", "1 gigabyte", "-1G", "", "12X"])
def test_nonsense_memory_is_refused_with_advice(text):
    with pytest.raises(StudioConfigError, match="such as 512M or 2G"):
        parse_memory(text)


def test_too_little_memory_is_refused():
    with pytest.raises(StudioConfigError, match="at least 256M"):
        parse_memory("16M")


def test_settings_read_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_MEM_LIMIT", "768M")
    monkeypatch.setenv("STUDIO_NETWORK_POLICY", "open")
    monkeypatch.setenv("STUDIO_PUBLIC_HOST", "studio.example.org")
    monkeypatch.setenv("STUDIO_PORT", "80")
    s = StudioSettings()
    assert s.mem_limit == "768M"
    assert s.network_policy == "open"
    assert s.public_url == "http://studio.example.org"


@pytest.mark.parametrize(
    "var,value,message",
    [("STUDIO_MEM_LIMIT", "plenty", "such as 512M"),
     ("STUDIO_NETWORK_POLICY", "half-open", "use closed or open"),
     ("STUDIO_CPU_LIMIT", "0", "0.05 to 64"),
     ("STUDIO_PREFIX", "Bad Prefix!", "lower-case"),
     ("STUDIO_GRADER_MEM_LIMIT", "a lot", "STUDIO_GRADER_MEM_LIMIT: .*such as 512M"),
     ("STUDIO_LOG_FORMAT", "xml", "STUDIO_LOG_FORMAT='xml' is not a log format: use text or json"),
     ("STUDIO_LOG_MAX_SIZE", "10 megabytes", "STUDIO_LOG_MAX_SIZE='10 megabytes' is not a log "
      "size: use a number with k, m or g, such as 10m"),
     ("STUDIO_LOG_MAX_FILES", "five", "STUDIO_LOG_MAX_FILES='five' is not a number of files"),
     ("STUDIO_LOG_MAX_FILES", "0", "STUDIO_LOG_MAX_FILES=0 keeps no log"),
     ("STUDIO_HOME_QUOTA", "big", "STUDIO_HOME_QUOTA 'big' is not a size: .*0 to turn"),
     ("STUDIO_HOME_QUOTA", "1M", "below 16M"),
     ("STUDIO_HOMES_DIR", "homes", "not an absolute path")],
)
def test_bad_environment_values_name_the_variable(monkeypatch, tmp_path, var, value, message):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(var, value)
    with pytest.raises(StudioConfigError, match=message):
        StudioSettings()


@pytest.mark.parametrize("text,expected", [("1G", 1024**3), ("500M", 500 * 1024**2),
                                           ("0", 0), ("off", 0)])
def test_home_quota_sizes_parse(text, expected):
    assert parse_home_quota(text) == expected


def test_home_quota_and_kernel_culling_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    for var in ("STUDIO_HOME_QUOTA", "STUDIO_HOMES_DIR", "STUDIO_KERNEL_CULL_TIMEOUT",
                "STUDIO_KERNEL_CULL_INTERVAL", "STUDIO_KERNEL_CULL_CONNECTED"):
        monkeypatch.delenv(var, raising=False)
    s = StudioSettings()
    assert s.home_quota_bytes == 1024**3
    assert s.homes_dir == "/var/lib/learning-studio/homes"
    assert (s.kernel_cull_timeout, s.kernel_cull_interval, s.kernel_cull_connected) == (
        1200, 300, False)


def test_generated_secrets_are_private_and_stable(monkeypatch, tmp_path):
    monkeypatch.delenv("STUDIO_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    first = StudioSettings().admin_token
    assert len(first) == 64
    assert StudioSettings().admin_token == first
    assert (tmp_path / "admin-token").stat().st_mode & 0o077 == 0


# --- safe by default: no demo accounts or shared password where others can reach ----------

@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("STUDIO_DEMO", "STUDIO_LOGIN", "STUDIO_PUBLIC_HOST", "STUDIO_BIND_IP"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize("host,bind", [("localhost", "127.0.0.1"), ("a.localhost", "127.0.0.1"),
                                       ("127.0.0.1", "127.0.0.2"), ("[::1]", "::1")])
def test_the_demo_stays_on_by_default_on_this_machine(clean_env, host, bind):
    clean_env.setenv("STUDIO_PUBLIC_HOST", host)
    clean_env.setenv("STUDIO_BIND_IP", bind)
    s = StudioSettings()
    assert s.local_only and s.demo and s.login == "password"
    s.check_exposure()  # the README's demo starts


@pytest.mark.parametrize("host,bind", [("class.example.org", "127.0.0.1"),
                                       ("localhost", "0.0.0.0"), ("10.0.0.5", "10.0.0.5"),
                                       ("127.example.org", "127.0.0.1")])
def test_on_a_reachable_host_the_shared_password_is_refused(clean_env, host, bind):
    clean_env.setenv("STUDIO_PUBLIC_HOST", host)
    clean_env.setenv("STUDIO_BIND_IP", bind)
    s = StudioSettings()
    assert not s.local_only and not s.demo  # no demo unless asked for
    with pytest.raises(StudioConfigError, match="STUDIO_LOGIN=password signs everyone in"):
        s.check_exposure()


def test_on_a_reachable_host_the_demo_accounts_are_refused(clean_env):
    clean_env.setenv("STUDIO_PUBLIC_HOST", "class.example.org")
    clean_env.setenv("STUDIO_LOGIN", "site")
    StudioSettings().check_exposure()  # sign-in through the site, no demo: fine
    clean_env.setenv("STUDIO_DEMO", "1")
    with pytest.raises(StudioConfigError, match="STUDIO_DEMO=1 asks for the demo accounts"):
        StudioSettings().check_exposure()


def test_the_hub_refuses_to_start_with_the_demo_on_a_public_host(clean_env, tmp_path):
    # the real start-up path: jupyterhub reads jupyterhub_config.py, which stops it
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "STUDIO_PUBLIC_HOST": "class.example.org", "STUDIO_DEMO": "1",
           "STUDIO_LOGIN": "site", "STUDIO_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "hub", "-f", str(root / "jupyterhub_config.py")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0, out.stderr[-2000:]
    assert "Learning Studio cannot start: STUDIO_PUBLIC_HOST=class.example.org" in out.stderr, \
        out.stderr[-2000:]
    assert "STUDIO_DEMO=0" in out.stderr


@pytest.mark.parametrize("url", ["postgres://u:p@127.0.0.1:5433/studio_hub",
                                 "postgresql://u:p@127.0.0.1:5433/studio_hub"])
def test_a_postgres_hub_url_means_the_installed_driver(monkeypatch, tmp_path, url):
    # the hub's image has psycopg 3, not psycopg2 (SQLAlchemy's default for postgresql://)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_HUB_DB_URL", url)
    assert StudioSettings().hub_db_url == "postgresql+psycopg://u:p@127.0.0.1:5433/studio_hub"
    monkeypatch.delenv("STUDIO_HUB_DB_URL")
    assert StudioSettings().hub_db_url.startswith("sqlite:///")
