"""STUDIO_DB names the stack's database: sqlite (the default) or postgres. Anything else
is refused at once, before anything is built, generated or started, with what to set."""

from __future__ import annotations

import os
import subprocess

import pytest
from stack import ROOT


@pytest.mark.parametrize("value", ["mysql", "postgresql", "Postgres"])
def test_up_refuses_an_unknown_database(tmp_path, value):
    env = {**os.environ, "STUDIO_DB": value, "STUDIO_ENV_FILE": str(tmp_path / "studio.env"),
           "STUDIO_COMPOSE_PROJECT": "lsdb-never-started"}
    out = subprocess.run([str(ROOT / "studio"), "up"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1
    assert f"STUDIO_DB={value} is not a database this stack runs" in out.stderr, out.stderr
    assert "STUDIO_DB=postgres" in out.stderr and "STUDIO_HUB_DB_URL" in out.stderr
    assert not (tmp_path / "studio.env").exists()
    assert "==>" not in out.stderr  # nothing built or started
