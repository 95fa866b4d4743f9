"""Learners' homes with a size limit: one small ext4 file system per learner.

This host's kernel has no XFS or ext4 quota support (CONFIG_XFS_QUOTA and CONFIG_QFMT_V2
are off) and Docker's ``--storage-opt size`` does not work with overlay2 on ext4, so a
learner's home is a file system of its own: a sparse image file
``<homes_dir>/<volume>.img`` attached to a loop device. The learner's named volume
``<prefix>-home-<user>`` is a ``local`` volume of type ext4 on that device, through the
link ``/run/learning-studio/homes/<volume>.dev`` (loop numbers change at a reboot; /run
is emptied then, so a volume can never be mounted on another learner's device: it fails
until the home is attached again). The engine mounts it while the learner's container
runs, and backups and restores by volume name still work. A full file system
answers ENOSPC, and nothing in the learner's container (non-root, every capability
dropped) can grow it.

Attaching a loop device needs CAP_SYS_ADMIN and the host's /dev: a short helper
container (the learner image, network none) runs :data:`PREPARE` when a spawn finds the
home not ready: a new home, a home to attach again after a reboot, or one whose limit
was raised (it is grown; shrinking is not done). Otherwise a spawn only reads the
device link and /sys, which the hub needs to see: homes_dir and the link folder at the
same paths.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path, PurePosixPath

import docker
from docker.errors import ContainerError, NotFound

log = logging.getLogger(__name__)

LEARNER_UID = 1000

# $1 image file, $2 device link, $3 size in bytes. A new home: a sparse file, ext4 owned
# by the learner, no blocks kept for root, no lost+found in the learner's way. The
# learner's container is gone (removed on stop) whenever this runs, so the file system
# is not mounted and can be checked and grown offline.
PREPARE = r"""
set -eu
trap '[ $? = 0 ] || echo "preparing $1 failed (see the lines above)" >&2' EXIT
img=$1 link=$2 size=$3
if [ ! -e "$img" ]; then
    rm -f "$img.new"
    truncate -s "$size" "$img.new"
    mkfs.ext4 -q -F -m 0 -E root_owner=__UID__:__UID__,nodiscard -L learner-home "$img.new"
    debugfs -w -R "rmdir lost+found" "$img.new" >/dev/null 2>&1 || true
    mv "$img.new" "$img"
fi
dev=$(losetup -n -O NAME -j "$img" | head -n1)
fs=$(dumpe2fs -h "$img" 2>/dev/null | awk '/^Block count:/{c=$3} /^Block size:/{b=$3} END{print c*b}')
if [ "$fs" -lt "$size" ] && [ $((size - fs)) -ge 4096 ]; then
    if [ -n "$dev" ]; then losetup -d "$dev"; dev=""; fi
    [ "$(stat -c %s "$img")" -ge "$size" ] || truncate -s "$size" "$img"
    # e2fsck: 0 clean, 1 errors corrected (free counts after a mount): both fine
    rc=0; e2fsck -f -p "$img" >&2 || rc=$?
    [ "$rc" -le 1 ] || { echo "e2fsck of $img found errors it could not correct" >&2; exit 1; }
    resize2fs "$img" >/dev/null 2>&1
    debugfs -w -R "rmdir lost+found" "$img" >/dev/null 2>&1 || true
    echo "grown to $size bytes"
fi
[ -n "$dev" ] || dev=$(losetup -f --show "$img")
ln -sfn "$dev" "$link"
""".replace("__UID__", str(LEARNER_UID))

# $1 homes_dir, $2 link dir: detach every home's loop device (tests; retiring a host).
RELEASE = r"""
set -u
for img in "$1"/*.img; do
    [ -e "$img" ] || continue
    for dev in $(losetup -n -O NAME -j "$img"); do losetup -d "$dev"; done
    rm -f "$2/$(basename "$img" .img).dev"
done
"""

LINK_DIR = "/run/learning-studio/homes"


def filesystem_size(img: str) -> int:
    """Bytes of the ext4 file system in `img`, from its superblock (at byte 1024)."""
    with open(img, "rb") as f:
        f.seek(1024)
        sb = f.read(0x154)
    if len(sb) < 0x154 or sb[0x38:0x3A] != b"\x53\xef":
        raise ValueError(f"{img} holds no ext4 file system")
    blocks = int.from_bytes(sb[4:8], "little")
    if int.from_bytes(sb[0x60:0x64], "little") & 0x80:  # INCOMPAT_64BIT
        blocks |= int.from_bytes(sb[0x150:0x154], "little") << 32
    return blocks * (1024 << int.from_bytes(sb[24:28], "little"))


class HomeQuotaError(Exception):
    """A learner's home file system could not be prepared."""


class QuotaHomes:
    """Learners' homes as size-limited file systems under `homes_dir` (a host path)."""

    def __init__(self, client: docker.DockerClient, homes_dir: str, helper_image: str,
                 prefix: str, link_dir: str = LINK_DIR):
        self.client = client
        self.link_dir = link_dir
        self.homes_dir = str(PurePosixPath(homes_dir))
        self.helper_image = helper_image
        self.prefix = prefix

    def paths(self, volume: str) -> tuple[str, str]:
        """The image file of the home in volume `volume`, and the link to its device."""
        return f"{self.homes_dir}/{volume}.img", f"{self.link_dir}/{volume}.dev"

    @staticmethod
    def attached(img: str, link: str, limit: int) -> bool:
        """True when the home needs nothing: its link names a loop device backed by its
        image (the kernel shows the backing file's path inside the helper's bind, so
        its name is compared), and the image is as large as the limit."""
        try:
            dev = os.path.basename(os.readlink(link))
            backing = Path(f"/sys/block/{dev}/loop/backing_file").read_text().strip()
            return (backing.endswith("/" + os.path.basename(img))
                    and limit - filesystem_size(img) < 4096)
        except (OSError, ValueError):
            return False

    def _on_host(self, name: str, script: str, *args: str) -> str:
        try:
            out = self.client.containers.run(
                self.helper_image,
                entrypoint=["sh", "-c", script, "studio-homes", *args],
                # not --privileged (it asks for every capability, and some hosts keep a
                # few out of reach): loop devices need CAP_SYS_ADMIN, the host's /dev
                # (loop nodes appear there as they are allocated) and the device rules
                # for them (block 7:*, loop-control 10:237)
                user="0", cap_add=["SYS_ADMIN"],
                device_cgroup_rules=["b 7:* rwm", "c 10:237 rwm"],
                volumes={"/dev": {"bind": "/dev", "mode": "rw"},
                         self.homes_dir: {"bind": self.homes_dir, "mode": "rw"},
                         self.link_dir: {"bind": self.link_dir, "mode": "rw"}},
                network_mode="none",
                name=f"{self.prefix}-homes-{name}-{int(time.time() * 1000) % 10**8}",
                labels={"org.learning-studio.role": "homes"},
                remove=True, stdout=True, stderr=True)
        except ContainerError as e:
            err = e.stderr.decode("utf-8", "replace").strip() if e.stderr else str(e)
            raise HomeQuotaError(
                f"preparing the home file system under {self.homes_dir} failed: {err}. "
                "Check that the folder is on a local disk with room, or turn the home "
                "quota off with STUDIO_HOME_QUOTA=0 (docs/operator-guide.md).") from e
        return out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)

    def prepare(self, volume: str, limit: int) -> None:
        """Make sure the home in `volume` exists as a file system of at least `limit`
        bytes, is mounted, and that the named volume binds it."""
        img, link = self.paths(volume)
        started = time.monotonic()
        out = ""
        if not self.attached(img, link, limit):
            out = self._on_host(volume, PREPARE, img, link, str(limit)).strip()
        self._ensure_volume(volume, link)
        log.info("home %s ready (limit %d bytes) in %.2fs%s", volume, limit,
                 time.monotonic() - started, f": {out}" if out else "")

    def _ensure_volume(self, volume: str, link: str) -> None:
        try:
            existing = self.client.volumes.get(volume)
        except NotFound:
            self.client.volumes.create(
                volume, driver="local",
                driver_opts={"type": "ext4", "device": link, "o": "nosuid,nodev,discard"},
                labels={"org.learning-studio.home-quota": "1"})
            return
        if (existing.attrs.get("Options") or {}).get("device") != link:
            # A home from before the quota was turned on: keep it, and say so.
            log.warning(
                "the home volume %s predates the home quota and has no limit; move its "
                "files into a quota home as docs/operator-guide.md says", volume)

    def release_all(self) -> None:
        """Detach the loop devices of every home under homes_dir (their files stay in
        the images; the next spawn attaches them again)."""
        self._on_host("release", RELEASE, self.homes_dir, self.link_dir)


def main(argv: list[str] | None = None) -> int:
    """``python -m hub.homes prepare VOLUME...``: make learners' quota homes ready (create
    a missing one, attach one after a reboot) the way a spawn does. ``./studio backup`` and
    ``./studio restore`` run it in a container of the hub's image, with the engine's
    socket and the two host folders at their own paths."""
    import argparse

    from .settings import StudioConfigError, parse_home_quota

    p = argparse.ArgumentParser(prog="python -m hub.homes", description=main.__doc__)
    p.add_argument("command", choices=["prepare"])
    p.add_argument("volumes", nargs="+", metavar="VOLUME")
    p.add_argument("--homes-dir", required=True, help="STUDIO_HOMES_DIR (a host path)")
    p.add_argument("--limit", required=True, help="STUDIO_HOME_QUOTA, such as 1G")
    p.add_argument("--image", required=True, help="the learner image (runs the helper)")
    p.add_argument("--prefix", default="studio", help="STUDIO_PREFIX")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        limit = parse_home_quota(a.limit)
        if not limit:
            raise StudioConfigError("the home quota is off (STUDIO_HOME_QUOTA=0): plain "
                                    "volumes need no preparing")
        homes = QuotaHomes(docker.from_env(), a.homes_dir, a.image, a.prefix)
        for volume in a.volumes:
            homes.prepare(volume, limit)
    except (StudioConfigError, HomeQuotaError) as e:
        print(f"studio: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
