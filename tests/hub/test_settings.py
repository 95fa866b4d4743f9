"""Settings: parsing and the clear errors a wrong value gets."""

import pytest

from hub.settings import StudioConfigError, StudioSettings, parse_memory


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
     ("STUDIO_LOG_FORMAT", "xml", "STUDIO_LOG_FORMAT='xml' is not a log format: use text or json")],
)
def test_bad_environment_values_name_the_variable(monkeypatch, tmp_path, var, value, message):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(var, value)
    with pytest.raises(StudioConfigError, match=message):
        StudioSettings()


def test_generated_secrets_are_private_and_stable(monkeypatch, tmp_path):
    monkeypatch.delenv("STUDIO_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path))
    first = StudioSettings().admin_token
    assert len(first) == 64
    assert StudioSettings().admin_token == first
    assert (tmp_path / "admin-token").stat().st_mode & 0o077 == 0
