"""The operator's config.d folder (studio_contracts.config_d): order, skips, clear failures."""

from __future__ import annotations

import pytest

from studio_contracts.config_d import (
    ConfigFileError,
    config_files,
    part_folder,
    run_config_folder,
)


def test_files_run_in_sorted_order_in_one_namespace(tmp_path):
    (tmp_path / "20-second.py").write_text("order.append('20'); seen = first\n")
    (tmp_path / "10-first.py").write_text("order.append('10'); first = __file__\n")
    (tmp_path / "_draft.py").write_text("raise RuntimeError('never run')\n")
    (tmp_path / ".hidden.py").write_text("raise RuntimeError('never run')\n")
    (tmp_path / "notes.txt").write_text("not python\n")
    namespace = {"order": []}
    files = run_config_folder(tmp_path, namespace)
    assert [p.name for p in files] == ["10-first.py", "20-second.py"]
    assert namespace["order"] == ["10", "20"]
    assert namespace["seen"] == str(tmp_path / "10-first.py")


def test_a_missing_folder_is_no_config(tmp_path, monkeypatch):
    assert config_files(tmp_path / "nothing-here") == []
    assert config_files(None) == []
    monkeypatch.delenv("STUDIO_CONFIG_D", raising=False)
    assert part_folder("hub") is None
    monkeypatch.setenv("STUDIO_CONFIG_D", str(tmp_path))
    assert part_folder("site") == tmp_path / "site"
    with pytest.raises(ValueError, match="unknown part"):
        part_folder("proxy")


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    bad = tmp_path / "30-bad.py"
    bad.write_text("x = 1\nc.JupyterHub.x = (\n")
    with pytest.raises(ConfigFileError) as e:
        run_config_folder(tmp_path, {})
    assert str(e.value).startswith(f"config file {bad}, line 2: syntax error")
    assert "Fix or remove the file" in str(e.value)


def test_an_exception_names_the_file_and_line(tmp_path):
    bad = tmp_path / "40-raises.py"
    bad.write_text("a = 1\nb = undefined_name\n")
    with pytest.raises(ConfigFileError, match=r"40-raises.py, line 2: NameError: name "
                       r"'undefined_name' is not defined"):
        run_config_folder(tmp_path, {})


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "hub").write_text("c.JupyterHub.x = 1\n")
    with pytest.raises(ConfigFileError, match="is a file, but config.d parts are folders"):
        config_files(tmp_path / "hub")


def test_an_unreadable_folder_says_how_to_fix_it(tmp_path, monkeypatch):
    # as the site's user (uid 1001) meets a folder only root may read; tests run as root
    import os

    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "10-x.py").write_text("X = 1\n")

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "listdir", refuse)
    with pytest.raises(ConfigFileError, match=r"site: cannot be read \(Permission denied\): "
                       r"make the folder and its files readable by everyone \(chmod -R a\+rX\)"):
        config_files(folder)
