"""One file for a whole installation: `./studio backup`, `./studio restore` and the backup
step of `./studio upgrade` call this script (Python's standard library only).

On the host it lists the volumes, writes the manifest, checks an archive before anything is
touched, and recreates volumes with their driver options. Inside a throw-away container of
the hub image, which mounts the volumes, it copies each SQLite database with SQLite's
online backup API (a consistent copy of a database in use), then packs each volume, and
on restore unpacks them.

The archive is a plain tar:

    manifest.json          format, date, commit, schema revisions, volumes, learners, sums
    studio.env             the installation's secrets (data/studio.env)
    volumes/<key>.tar.gz   one per volume: hub-data, cms-data, home-<learner>
    postgres/<db>.dump     with STUDIO_DB=postgres: pg_dump -Fc of each database
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "learning-studio-backup"
FORMAT_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
# Volumes whose SQLite databases are copied through the backup API; learners' homes are
# packed as files (a learner's own database is theirs to keep consistent).
DATABASE_VOLUMES = ("hub-data", "cms-data")
HERE = Path(__file__).resolve().parent


class BackupError(Exception):
    """Something the operator can fix; the message says what."""


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return sha256_of(f)


def sha256_of(f) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------- in the container
def is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def schema_revision(db: Path) -> dict:
    """What the snapshot says about its schema: Alembic's revision (hub, grader) or the
    newest migration of each Django app (the site)."""
    found: dict = {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" in tables:
            found["alembic"] = [r[0] for r in con.execute("SELECT version_num FROM alembic_version")]
        if "django_migrations" in tables:
            found["django"] = {app: name for app, name in con.execute(
                "SELECT app, max(name) FROM django_migrations GROUP BY app")}
    finally:
        con.close()
    return found


def snapshot_database(source: Path, target: Path) -> float:
    """Copy a database that may be in use with SQLite's online backup API; the seconds
    writers had to wait (the copy runs in one step, under a read lock)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(target))
    try:
        started = time.monotonic()
        src.backup(dst)
        return time.monotonic() - started
    finally:
        dst.close()
        src.close()


def pack_volumes(root: Path, out: Path, owner: str | None) -> None:
    """Inside the helper container: /v/<key> are the volumes, out the host's staging folder.
    Databases first, all of them, then the files: every blob a database names is then in
    the archive (blobs are written before the rows that name them)."""
    keys = sorted(p.name for p in root.iterdir() if p.is_dir())
    snapshots: dict[str, dict[str, Path]] = {}
    report: dict = {"databases": [], "volumes": {}}
    snapdir = out / "snapshots"
    for key in keys:
        if key not in DATABASE_VOLUMES:
            continue
        for path in sorted((root / key).rglob("*")):
            if not path.is_file() or path.is_symlink() or not is_sqlite(path):
                continue
            rel = path.relative_to(root / key).as_posix()
            target = snapdir / key / rel
            paused = snapshot_database(path, target)
            snapshots.setdefault(key, {})[rel] = target
            size = target.stat().st_size
            report["databases"].append({"volume": key, "path": rel, "bytes": size,
                                        "seconds": round(paused, 3),
                                        "schema": schema_revision(target)})
            print(f"==> database {key}/{rel}: {human(size)}, copied in {paused:.2f} s",
                  flush=True)
    (out / "volumes").mkdir(exist_ok=True)
    for key in keys:
        started = time.monotonic()
        base = root / key
        dbs = snapshots.get(key, {})
        skip = set(dbs) | {f"{rel}{suffix}" for rel in dbs for suffix in ("-wal", "-shm", "-journal")}
        target = out / "volumes" / f"{key}.tar.gz"
        files = 0
        with tarfile.open(target, "w:gz", compresslevel=1, format=tarfile.PAX_FORMAT) as tar:
            tar.add(str(base), arcname=".", recursive=False)
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames.sort()
                for name in sorted(dirnames) + sorted(filenames):
                    path = Path(dirpath) / name
                    rel = path.relative_to(base).as_posix()
                    if rel in skip:
                        continue
                    if rel in dbs:
                        continue
                    try:
                        tar.add(str(path), arcname=f"./{rel}", recursive=False)
                    except FileNotFoundError:
                        continue  # removed while we walked (a learner's temporary file)
                    files += 1
            for rel, snap in dbs.items():
                # the snapshot, with the owner and mode of the live database
                info = tar.gettarinfo(str(base / rel), arcname=f"./{rel}")
                info.size = snap.stat().st_size
                with open(snap, "rb") as f:
                    tar.addfile(info, f)
                files += 1
        size = target.stat().st_size
        report["volumes"][key] = {"files": files, "bytes": size}
        print(f"==> volume {key}: {files} files, {human(size)} packed in "
              f"{time.monotonic() - started:.1f} s", flush=True)
    shutil.rmtree(snapdir, ignore_errors=True)
    (out / "volumes.json").write_text(json.dumps(report))
    if owner:
        uid, gid = (int(x) for x in owner.split(":"))
        for dirpath, _dirs, files_ in os.walk(out):
            os.chown(dirpath, uid, gid)
            for name in files_:
                os.chown(os.path.join(dirpath, name), uid, gid)


def safe_members(tar: tarfile.TarFile):
    for member in tar:
        name = member.name
        if name.startswith("/") or ".." in Path(name).parts:
            raise BackupError(f"the archive holds an unsafe path: {name}")
        if member.islnk() and (member.linkname.startswith("/") or ".." in Path(member.linkname).parts):
            raise BackupError(f"the archive holds an unsafe hard link: {name}")
        yield member


def unpack_volumes(archive: Path, root: Path) -> None:
    """Inside the helper container: unpack volumes/<key>.tar.gz of the archive into the
    (empty, new) volume mounted at /v/<key>, owners and modes as they were."""
    with tarfile.open(archive, "r:") as outer:
        for member in outer:
            if not (member.name.startswith("volumes/") and member.name.endswith(".tar.gz")):
                continue
            key = member.name[len("volumes/"):-len(".tar.gz")]
            if not (root / key).is_dir():
                continue
            started = time.monotonic()
            # a bind-backed volume keeps its folder's files when it is removed: empty it,
            # so the volume holds what the backup holds and nothing else
            for old in (root / key).iterdir():
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old)
                else:
                    old.unlink()
            with tarfile.open(fileobj=outer.extractfile(member), mode="r|gz") as inner:
                for item in safe_members(inner):
                    inner.extract(item, path=str(root / key), numeric_owner=True,
                                  **({"filter": "fully_trusted"}
                                     if hasattr(tarfile, "fully_trusted_filter") else {}))
            print(f"==> volume {key}: {human(member.size)} unpacked in "
                  f"{time.monotonic() - started:.1f} s", flush=True)


# --------------------------------------------------------------------------- on the host
def docker(*args: str, capture: bool = True) -> str:
    p = subprocess.run(["docker", *args], capture_output=capture, text=True)
    if p.returncode != 0:
        raise BackupError(f"docker {' '.join(args[:3])} failed: {(p.stderr or '').strip()}")
    return p.stdout if capture else ""


def volume_names(project: str, prefix: str) -> dict[str, str]:
    """key -> volume name of this installation, for the volumes that exist."""
    names = {"hub-data": f"{project}_hub-data", "cms-data": f"{project}_cms-data"}
    existing = set(docker("volume", "ls", "-q").split())
    found = {k: v for k, v in names.items() if v in existing}
    home = f"{prefix}-home-"
    for name in sorted(existing):
        if name.startswith(home) and name[len(home):]:
            found[f"home-{name[len(home):]}"] = name
    return found


def target_names(manifest: dict, project: str, prefix: str) -> dict[str, str]:
    """key -> the volume each of the archive's volumes is restored into, named for this
    installation's STUDIO_COMPOSE_PROJECT and STUDIO_PREFIX."""
    out = {}
    for v in manifest["volumes"]:
        key = v["key"]
        if key.startswith("home-"):
            out[key] = f"{prefix}-home-{key[len('home-'):]}"
        else:
            out[key] = f"{project}_{key}"
    return out


def helper_run(image: str, mounts: list[str], *args: str) -> None:
    cmd = ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3",
           "-v", f"{HERE}:/studio-backup:ro"]
    for m in mounts:
        cmd += ["-v", m]
    cmd += [image, "/studio-backup/archive.py", *args]
    p = subprocess.run(cmd, stdout=sys.stderr)
    if p.returncode != 0:
        raise BackupError(f"the helper container ({image}) failed; its output is above")


HOME_LINK_DIR = "/run/learning-studio/homes"  # hub/homes.py's LINK_DIR
HOME_QUOTA_LABEL = "org.learning-studio.home-quota"


def quota_on(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "off", "none")


def prepare_homes(a: argparse.Namespace, volumes: list[str]) -> None:
    """Learners' homes under a quota (STUDIO_HOME_QUOTA; hub/homes.py) are ext4 file
    systems on loop devices: the hub's own code creates a missing one and attaches one a
    reboot detached, in a container of the hub's image with the engine's socket and the
    two host folders at their own paths, as a spawn does."""
    if not volumes:
        return
    say(f"preparing {len(volumes)} learner home(s) with a quota of {a.home_quota}")
    cmd = ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3",
           "-v", "/var/run/docker.sock:/var/run/docker.sock",
           "-v", f"{a.homes_dir}:{a.homes_dir}", "-v", f"{HOME_LINK_DIR}:{HOME_LINK_DIR}",
           a.image, "-m", "hub.homes", "prepare", "--homes-dir", a.homes_dir,
           "--limit", a.home_quota, "--image", a.learner_image, "--prefix", a.prefix, *volumes]
    p = subprocess.run(cmd, stdout=sys.stderr)
    if p.returncode != 0:
        raise BackupError("preparing the learners' homes failed (above); STUDIO_HOMES_DIR "
                          "must be on a local disk with room, or set STUDIO_HOME_QUOTA=0")


def git_commit() -> str | None:
    p = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "HEAD"],
                       capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def cmd_backup(a: argparse.Namespace) -> None:
    out = Path(a.out).resolve()
    if out.exists():
        raise BackupError(f"{out} exists already; name another file")
    env_file = Path(a.env_file)
    if not env_file.is_file():
        raise BackupError(f"no env file at {env_file}: is this installation set up "
                          "(./studio up)? Set STUDIO_ENV_FILE if it lives elsewhere")
    volumes = volume_names(a.project, a.prefix)
    for key in DATABASE_VOLUMES:
        if key not in volumes:
            raise BackupError(f"the volume {a.project}_{key} does not exist: nothing to back "
                              "up for STUDIO_COMPOSE_PROJECT=" + a.project)
    started = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        shutil.copy2(env_file, staging / "studio.env")
        os.chmod(staging / "studio.env", 0o600)
        if a.postgres_dumps:
            shutil.copytree(a.postgres_dumps, staging / "postgres")
        inspected = json.loads(docker("volume", "inspect", *volumes.values()))
        by_name = {v["Name"]: v for v in inspected}
        # a quota home is readable only while its loop device is attached (a reboot
        # detaches them all until each learner's next spawn): attach them first
        if quota_on(a.home_quota):
            prepare_homes(a, [name for key, name in volumes.items() if key.startswith("home-")
                              and (by_name[name].get("Labels") or {}).get(HOME_QUOTA_LABEL)])
        mounts = [f"{staging}:/out"]
        for key, name in volumes.items():
            ro = "" if key in DATABASE_VOLUMES else ":ro"  # SQLite's read lock writes -shm
            mounts.append(f"{name}:/v/{key}{ro}")
        helper_run(a.image, mounts, "pack-volumes", "/v", "/out",
                   "--owner", f"{os.getuid()}:{os.getgid()}")
        report = json.loads((staging / "volumes.json").read_text())
        (staging / "volumes.json").unlink()
        members = ["studio.env"]
        members += [f"volumes/{k}.tar.gz" for k in sorted(volumes)]
        if (staging / "postgres").is_dir():
            members += [f"postgres/{p.name}" for p in sorted((staging / "postgres").iterdir())]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "studio_db": a.studio_db,
            "project": a.project,
            "prefix": a.prefix,
            "volumes": [{
                "key": key, "name": name,
                "driver": by_name[name].get("Driver", "local"),
                "options": by_name[name].get("Options") or {},
                "labels": by_name[name].get("Labels") or {},
            } for key, name in sorted(volumes.items())],
            "learners": sorted(k[len("home-"):] for k in volumes if k.startswith("home-")),
            "databases": report["databases"],
            "files": checksums(staging, members),
        }
        write_archive(out, manifest, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    paused = sum(d["seconds"] for d in manifest["databases"])
    say(f"backup written: {out} ({human(out.stat().st_size)}, {len(manifest['learners'])} "
        f"learner home(s), {time.monotonic() - started:.1f} s; databases held "
        f"{paused:.2f} s in all)")
    print(out)


def checksums(staging: Path, members: list[str]) -> dict:
    return {m: {"bytes": (staging / m).stat().st_size, "sha256": sha256(staging / m)}
            for m in members}


def write_archive(out: Path, manifest: dict, staging: Path) -> None:
    """The manifest first (a restore reads it before anything else), then each part; the
    file appears under its name only once complete."""
    partial = out.parent / f".{out.name}.writing"
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        data = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        tar.addfile(info, io.BytesIO(data))
        for m in manifest["files"]:
            tar.add(str(staging / m), arcname=m, recursive=False)
    os.chmod(partial, 0o600)  # it holds the secrets
    partial.rename(out)


def read_manifest(archive: Path) -> dict:
    """Check the whole archive before anything is touched: a known format, every file the
    manifest lists present with its checksum. A clear error otherwise."""
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    try:
        with tarfile.open(archive, "r:") as tar:
            first = tar.next()
            if first is None or first.name != "manifest.json":
                raise BackupError(f"{archive} is not a Learning Studio backup (no manifest "
                                  "at its start)")
            manifest = json.loads(tar.extractfile(first).read())
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{archive} is not a Learning Studio backup")
            version = manifest.get("format_version")
            if version != FORMAT_VERSION:
                raise BackupError(
                    f"{archive} has backup format version {version}; this checkout reads "
                    f"version {FORMAT_VERSION}. Restore it with the checkout that made it "
                    f"(commit {manifest.get('commit') or 'unknown'}), then upgrade")
            want = manifest["files"]
            seen = set()
            for member in tar:
                if member.name not in want:
                    continue
                if sha256_of(tar.extractfile(member)) != want[member.name]["sha256"]:
                    raise BackupError(f"{archive} is damaged: {member.name} does not match "
                                      "its checksum. Nothing was changed")
                seen.add(member.name)
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError) as e:
        raise BackupError(f"{archive} is damaged or incomplete ({e.__class__.__name__}: {e}). "
                          "Nothing was changed; use another backup") from e
    missing = sorted(set(want) - seen)
    if missing:
        raise BackupError(f"{archive} is incomplete: {', '.join(missing)} missing (a "
                          "truncated copy?). Nothing was changed; use another backup")
    return manifest


def cmd_verify(a: argparse.Namespace) -> None:
    m = read_manifest(Path(a.archive))
    say(f"backup of {m['created']} (commit {(m.get('commit') or 'unknown')[:12]}, "
        f"STUDIO_DB={m['studio_db']}): {len(m['volumes'])} volumes, "
        f"{len(m['learners'])} learner home(s); checksums good")


def cmd_existing(a: argparse.Namespace) -> None:
    """Print what a restore of the archive would overwrite here, one line each."""
    manifest = read_manifest(Path(a.archive))
    existing = set(docker("volume", "ls", "-q").split())
    for name in target_names(manifest, a.project, a.prefix).values():
        if name in existing:
            print(f"volume {name}")


def create_volume(spec: dict, name: str, project: str) -> None:
    opts = spec.get("options") or {}
    if opts.get("type") == "none" and "bind" in opts.get("o", "") and opts.get("device"):
        Path(opts["device"]).mkdir(parents=True, exist_ok=True)  # a bind-backed volume's folder
    args = ["volume", "create", "--driver", spec.get("driver") or "local"]
    for k, v in opts.items():
        args += ["--opt", f"{k}={v}"]
    labels = dict(spec.get("labels") or {})
    if "com.docker.compose.project" in labels:
        labels["com.docker.compose.project"] = project  # compose's own volumes
    for k, v in labels.items():
        args += ["--label", f"{k}={v}"]
    docker(*args, name)


def cmd_restore(a: argparse.Namespace) -> None:
    archive = Path(a.archive).resolve()
    manifest = read_manifest(archive)
    names = target_names(manifest, a.project, a.prefix)
    started = time.monotonic()
    existing = set(docker("volume", "ls", "-q").split())
    # ./studio down removed the stack's containers; anything else still using a volume
    # would stop the restore halfway, so look first and change nothing
    for name in sorted(set(names.values()) & existing):
        users = docker("ps", "-aq", "--filter", f"volume={name}").split()
        if users:
            raise BackupError(f"the volume {name} is in use by container(s) "
                              f"{', '.join(users)}; remove them (docker rm -f ...) and run the "
                              "restore again. No volume was changed")
    homes = []
    for spec in manifest["volumes"]:
        name = names[spec["key"]]
        if name in existing:
            docker("volume", "rm", name)
        if spec["key"].startswith("home-"):
            # a learner's home is made as this installation makes homes, whatever the
            # backed-up machine did: under its quota (an ext4 file system of its own: the
            # backup's loop device means nothing here), or a plain volume without one
            if quota_on(a.home_quota):
                homes.append(name)
                continue
            spec = {**spec, "driver": "local", "options": {},
                    "labels": {k: v for k, v in (spec.get("labels") or {}).items()
                               if k != HOME_QUOTA_LABEL}}
        create_volume(spec, name, a.project)
        say(f"volume {name} created ({spec.get('driver') or 'local'}"
            f"{', ' + ', '.join(f'{k}={v}' for k, v in spec['options'].items()) if spec.get('options') else ''})")
    prepare_homes(a, homes)
    mounts = [f"{archive.parent}:/in:ro"] + [f"{names[k]}:/v/{k}" for k in names]
    helper_run(a.image, mounts, "unpack-volumes", f"/in/{archive.name}", "/v")
    with tarfile.open(archive, "r:") as tar:
        env_file = Path(a.env_file)
        env_file.parent.mkdir(parents=True, exist_ok=True)
        if env_file.exists():
            kept = env_file.with_name(f"{env_file.name}.before-restore")
            shutil.copy2(env_file, kept)
            say(f"the env file it replaces is kept as {kept}")
        data = tar.extractfile("studio.env").read()
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(env_file, 0o600)
        dumps = [m for m in tar.getmembers() if m.name.startswith("postgres/")]
        if dumps and a.postgres_dumps:
            target = Path(a.postgres_dumps)
            target.mkdir(parents=True, exist_ok=True)
            for m in dumps:
                (target / Path(m.name).name).write_bytes(tar.extractfile(m).read())
    say(f"restored {len(names)} volumes and the env file in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="backup/archive.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup")
    b.add_argument("--out", required=True)
    b.add_argument("--env-file", required=True)
    b.add_argument("--project", required=True)
    b.add_argument("--prefix", required=True)
    b.add_argument("--image", required=True)
    b.add_argument("--studio-db", default="sqlite")
    b.add_argument("--postgres-dumps")
    for name in ("verify", "existing", "restore"):
        s = sub.add_parser(name)
        s.add_argument("archive")
        if name != "verify":
            s.add_argument("--project", required=True)
            s.add_argument("--prefix", required=True)
        if name == "restore":
            s.add_argument("--env-file", required=True)
            s.add_argument("--image", required=True)
            s.add_argument("--postgres-dumps")
    pv = sub.add_parser("pack-volumes")
    pv.add_argument("root")
    pv.add_argument("out")
    pv.add_argument("--owner")
    uv = sub.add_parser("unpack-volumes")
    uv.add_argument("archive")
    uv.add_argument("root")
    for name, sp in sub.choices.items():
        if name in ("backup", "restore"):
            # learners' homes as the hub makes them (hub/homes.py)
            sp.add_argument("--home-quota", default="0", help="STUDIO_HOME_QUOTA")
            sp.add_argument("--homes-dir", default="/var/lib/learning-studio/homes")
            sp.add_argument("--learner-image", default="learning-studio/learner:latest")
    a = p.parse_args(argv)
    try:
        if a.command == "backup":
            cmd_backup(a)
        elif a.command == "verify":
            cmd_verify(a)
        elif a.command == "existing":
            cmd_existing(a)
        elif a.command == "restore":
            cmd_restore(a)
        elif a.command == "pack-volumes":
            pack_volumes(Path(a.root), Path(a.out), a.owner)
        elif a.command == "unpack-volumes":
            unpack_volumes(Path(a.archive), Path(a.root))
    except BackupError as e:
        print(f"studio: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
