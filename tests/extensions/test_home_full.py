"""A save into a full home answers 507 with the learner's usage, limit and what to do.

A real full file system: a 2 MiB tmpfs mounted as the server's root (this needs root,
as the Docker tests do); the contents manager is the one the learner image configures.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from learning_studio_lab.home import HomeContentsManager, HomeUsage, is_home_full
from tornado.web import HTTPError

MiB = 1024**2


@pytest.fixture
def full_home(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs: run it as root (CI does)")
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "home", str(home)], check=True)
    try:
        yield home
    finally:
        subprocess.run(["umount", str(home)], check=True)


async def test_save_into_a_full_home_names_usage_and_what_to_do(full_home):
    cm = HomeContentsManager(root_dir=str(full_home))
    await cm.save({"type": "file", "format": "text", "content": "a" * 1000}, "small.txt")
    with pytest.raises(HTTPError) as err:
        await cm.save({"type": "file", "format": "text", "content": "x" * (3 * MiB)}, "big.txt")
    assert err.value.status_code == 507
    message = err.value.log_message
    assert "home folder is full" in message and "big.txt" in message
    assert "of your 2.0 MiB" in message and "Delete files" in message
    # no partial new file is left behind, taking the room that is left
    assert not (full_home / "big.txt").exists()
    # overwriting a saved file with too much keeps what was saved
    with pytest.raises(HTTPError) as err:
        await cm.save({"type": "file", "format": "text", "content": "x" * (3 * MiB)}, "small.txt")
    assert err.value.status_code == 507
    assert (full_home / "small.txt").read_text() == "a" * 1000
    usage = HomeUsage.of(str(full_home))
    assert usage.limit == 2 * MiB and 0 < usage.used <= usage.limit


async def test_other_save_errors_stay_as_they_were(tmp_path):
    cm = HomeContentsManager(root_dir=str(tmp_path))
    with pytest.raises(HTTPError) as err:
        await cm.save({"type": "file", "format": "text", "content": "x"}, "no/such/dir/f.txt")
    assert err.value.status_code != 507


def test_full_is_recognised_through_wrapped_errors():
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as e:
            raise HTTPError(500, "Unexpected error while saving file") from e
    except HTTPError as wrapped:
        assert is_home_full(wrapped)
    assert not is_home_full(HTTPError(500, "x"))
    assert not is_home_full(OSError(13, "Permission denied"))


async def test_a_file_in_a_full_home_still_opens_without_a_checkpoint(full_home):
    cm = HomeContentsManager(root_dir=str(full_home))
    await cm.save({"type": "file", "format": "text", "content": "b" * 1000}, "diary.txt")
    fd = os.open(full_home / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    # JupyterLab goes on opening the file on a 403 (a 500 stops it)
    with pytest.raises(HTTPError) as err:
        await cm.create_checkpoint("diary.txt")
    assert err.value.status_code == 403
    assert "home folder is full" in err.value.log_message
