"""backup/archive.py without Docker: the packing and unpacking the helper container runs,
the archive's manifest and checksums, and every way a damaged archive is refused.

The whole commands, on a real stack, are tests/hub/test_backup_restore.py.
"""

import importlib.util
import io
import json
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("studio_backup_archive", REPO / "backup" / "archive.py")
archive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(archive)


@pytest.fixture
def installation(tmp_path):
    """Volumes as the stack leaves them: a grader database in WAL mode with rows not yet
    checkpointed (only in the -wal file) and a connection open, a blob, a learner's file."""
    root = tmp_path / "v"
    (root / "hub-data" / "grader" / "blobs").mkdir(parents=True)
    (root / "cms-data").mkdir()
    (root / "home-alan" / "work").mkdir(parents=True)
    db = sqlite3.connect(root / "hub-data" / "grader" / "grader.sqlite")
    db.execute("PRAGMA journal_mode=wal")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE alembic_version (version_num TEXT)")
    db.execute("INSERT INTO alembic_version VALUES ('0003_review_reason')")
    db.execute("CREATE TABLE submissions (blob TEXT)")
    db.execute("INSERT INTO submissions VALUES ('abc123')")
    db.commit()
    assert (root / "hub-data" / "grader" / "grader.sqlite-wal").stat().st_size > 0
    (root / "hub-data" / "grader" / "blobs" / "abc123").write_text("a submitted notebook")
    site = sqlite3.connect(root / "cms-data" / "cms.sqlite3")
    site.execute("CREATE TABLE django_migrations (app TEXT, name TEXT)")
    site.executemany("INSERT INTO django_migrations VALUES (?, ?)",
                     [("community", "0001_initial"), ("community", "0002_alter")])
    site.commit()
    site.close()
    notes = root / "home-alan" / "work" / "notes.txt"
    notes.write_text("my own notes")
    os.chown(notes, 1000, 1000)
    os.chmod(notes, 0o640)
    yield root
    db.close()


def make_archive(root: Path, tmp_path: Path) -> tuple[Path, dict]:
    out = tmp_path / "out"
    out.mkdir()
    archive.pack_volumes(root, out, None)
    (out / "studio.env").write_text("STUDIO_ADMIN_TOKEN=secret\n")
    report = json.loads((out / "volumes.json").read_text())
    members = ["studio.env"] + [f"volumes/{k}.tar.gz" for k in sorted(report["volumes"])]
    manifest = {"format": archive.FORMAT, "format_version": archive.FORMAT_VERSION,
                "commit": None, "studio_db": "sqlite", "databases": report["databases"],
                "volumes": [{"key": k} for k in sorted(report["volumes"])], "learners": ["alan"],
                "files": archive.checksums(out, members)}
    path = tmp_path / "studio.tar"
    archive.write_archive(path, manifest, out)
    return path, manifest


def test_pack_then_unpack_gives_back_the_databases_and_files(installation, tmp_path):
    path, _ = make_archive(installation, tmp_path)
    manifest = archive.read_manifest(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    dbs = {d["path"]: d for d in manifest["databases"]}
    assert set(dbs) == {"grader/grader.sqlite", "cms.sqlite3"}  # a home is not searched
    assert dbs["grader/grader.sqlite"]["schema"] == {"alembic": ["0003_review_reason"]}
    assert dbs["cms.sqlite3"]["schema"] == {"django": {"community": "0002_alter"}}
    with tarfile.open(path) as tar, tarfile.open(
            fileobj=tar.extractfile("volumes/hub-data.tar.gz")) as inner:
        packed = inner.getnames()
    # the snapshot stands for the database: no -wal or -shm of the live one beside it
    assert "./grader/grader.sqlite" in packed and not any(
        n.endswith(("-wal", "-shm")) for n in packed)

    restored = tmp_path / "r"
    for key in ("hub-data", "cms-data", "home-alan"):
        (restored / key).mkdir(parents=True)
    # a bind-backed home's folder keeps what it had: the restore empties it first
    (restored / "home-alan" / "stale").mkdir()
    (restored / "home-alan" / "stale" / "old.txt").write_text("not in the backup")
    archive.unpack_volumes(path, restored)
    assert not (restored / "home-alan" / "stale").exists()
    copy = sqlite3.connect(restored / "hub-data" / "grader" / "grader.sqlite")
    assert copy.execute("SELECT blob FROM submissions").fetchall() == [("abc123",)]
    copy.close()
    assert (restored / "hub-data" / "grader" / "blobs" / "abc123").read_text() == (
        "a submitted notebook")
    notes = restored / "home-alan" / "work" / "notes.txt"
    assert notes.read_text() == "my own notes"
    assert (notes.stat().st_uid, notes.stat().st_gid, notes.stat().st_mode & 0o777) == (
        1000, 1000, 0o640)


def rewrite(path: Path, target: Path, change) -> Path:
    with tarfile.open(path) as src, tarfile.open(target, "w") as dst:
        for member in src:
            body = change(member, src.extractfile(member).read())
            if body is None:
                continue
            member.size = len(body)
            dst.addfile(member, io.BytesIO(body))
    return target


def test_every_damaged_archive_is_refused(installation, tmp_path):
    path, _ = make_archive(installation, tmp_path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data[: len(data) // 2])
    stop_early = tmp_path / "stop-early.tar"
    stop_early.write_bytes(data[:1536])  # the manifest, and nothing after it
    future = rewrite(path, tmp_path / "future.tar", lambda m, b: json.dumps(
        {**json.loads(b), "format_version": 99}).encode() if m.name == "manifest.json" else b)
    changed = rewrite(path, tmp_path / "changed.tar", lambda m, b: b"STUDIO_ADMIN_TOKEN=other\n"
                      if m.name == "studio.env" else b)
    missing = rewrite(path, tmp_path / "missing.tar",
                      lambda m, b: None if m.name.endswith("home-alan.tar.gz") else b)
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(str(REPO / "README.md"), arcname="README.md")
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    for bad, why in [(truncated, "incomplete"), (stop_early, "incomplete"),
                     (future, "format version 99"), (changed, "does not match its checksum"),
                     (missing, "volumes/home-alan.tar.gz missing"),
                     (other, "not a Learning Studio backup"), (empty, "damaged or incomplete"),
                     (tmp_path / "nowhere.tar", "no such file")]:
        with pytest.raises(archive.BackupError, match=why):
            archive.read_manifest(bad)


def test_an_inner_path_outside_the_volume_is_refused(tmp_path):
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("volumes/home-alan.tar.gz")
        info.size = len(inner.getvalue())
        tar.addfile(info, io.BytesIO(inner.getvalue()))
    (tmp_path / "v" / "home-alan").mkdir(parents=True)
    with pytest.raises(archive.BackupError, match="unsafe path"):
        archive.unpack_volumes(path, tmp_path / "v")
    assert not (tmp_path / "v" / "escaped").exists()


def test_commands_say_what_to_do(tmp_path, capsys):
    assert archive.main(["verify", str(tmp_path / "nowhere.tar")]) == 1
    assert "no such file" in capsys.readouterr().err
