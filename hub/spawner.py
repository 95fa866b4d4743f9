"""The learner sandbox: a DockerSpawner that shapes and isolates learner containers."""

from __future__ import annotations

import asyncio
import functools
import time

import docker
from dockerspawner import DockerSpawner
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from traitlets import Bool, Dict, Float, Integer, Unicode, default

from .homes import QuotaHomes
from .settings import missing_image_message


@functools.cache
def _engine() -> docker.DockerClient:
    return docker.from_env(timeout=120)


class LearnerImageMissing(Exception):
    """The learner image is not on this Docker engine."""


class StudioSpawner(DockerSpawner):
    """DockerSpawner for learners.

    Each learner gets a container of the learner image with a named volume for their
    home, so files outlive the container (with home_quota, a file system of that size); the container is removed on stop. It runs as
    the image's non-root user with every capability dropped, no new privileges, a
    read-only root, and memory, CPU and process limits; no Docker socket and no host
    path is ever mounted.
    """

    pids_limit = Integer(
        256, help="Most processes and threads in one learner container."
    ).tag(config=True)

    tmp_size = Unicode(
        "256m", help="Size of the tmpfs mounted on /tmp (the root file system is read-only)."
    ).tag(config=True)

    log_config = Dict(
        {"type": "json-file", "config": {"max-size": "10m", "max-file": "5"}},
        help="""Docker log driver of a learner container (docker-py's log_config): by
        default json-file rotated at 10 MB, five files kept, so a notebook that prints
        without end cannot fill the host's disk. The stack sets it from
        STUDIO_LOG_MAX_SIZE and STUDIO_LOG_MAX_FILES.""",
    ).tag(config=True)

    home_quota = Integer(
        0,
        help="""Most bytes a learner's home may hold; 0: no quota (a plain volume). With a
        quota the home volume is an ext4 file system of this size (hub/homes.py).""",
    ).tag(config=True)

    homes_dir = Unicode(
        "/var/lib/learning-studio/homes",
        help="Host folder of the home images when home_quota is set (the same path here).",
    ).tag(config=True)

    readiness_interval = Float(
        0.05,
        help="""Seconds between checks that a new server answers. The spawner waits here,
        closely, so the hub's own (exponentially backed-off) check succeeds at once.""",
    ).tag(config=True)

    secure_cookies = Bool(
        False,
        help="""Mark the learner server's _xsrf cookie Secure, as its login cookie already is
        behind HTTPS (jupyter-server sets it without). On when the public URL is https.""",
    ).tag(config=True)

    @default("remove")
    def _remove_default(self):
        return True

    @default("use_internal_ip")
    def _use_internal_ip_default(self):
        return True

    @default("pull_policy")
    def _pull_policy_default(self):
        # Images are built locally; there may be no registry to pull from at all.
        return "never"

    @default("volumes")
    def _volumes_default(self):
        return {"{prefix}-home-{username}": "/home/learner"}

    @default("extra_host_config")
    def _extra_host_config_default(self):
        return {
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "pids_limit": self.pids_limit,
            "read_only": True,
            "tmpfs": {"/tmp": f"size={self.tmp_size},mode=1777"},
            "init": False,  # the image runs tini itself
            "log_config": self.log_config,
        }

    @default("extra_create_kwargs")
    def _extra_create_kwargs_default(self):
        return {
            "user": "1000:1000",
            "labels": {"org.learning-studio.user": self.user.name},
        }

    def get_args(self):
        args = super().get_args()
        # The learner image's server config keeps JupyterLab to what learners use; listen
        # on all addresses of the container (only the learner network reaches it).
        args = [*args, "--ServerApp.ip=0.0.0.0"]
        if self.secure_cookies:
            # a Python literal: traitlets reads a Dict given on the command line that way
            xsrf = {"xsrf_cookie_kwargs": {"path": self.server.base_url, "secure": True}}
            args.append(f"--ServerApp.tornado_settings={xsrf!r}")
        return args

    async def check_image(self) -> None:
        """Fail with a clear message when the learner image is missing."""
        try:
            await self.docker("inspect_image", self.image)
        except Exception as e:
            if getattr(e, "status_code", None) == 404 or "No such image" in str(e):
                raise LearnerImageMissing(missing_image_message(self.image)) from e
            raise

    async def prepare_home(self) -> None:
        """Give the learner's home volume its size limit before the container uses it."""
        if not self.home_quota:
            return
        volume = self.format_volume_name("{prefix}-home-{username}", self)
        homes = QuotaHomes(_engine(), self.homes_dir, self.image, self.prefix)
        await asyncio.to_thread(homes.prepare, volume, self.home_quota)

    async def start(self):
        await self.check_image()
        await self.prepare_home()
        ip, port = await super().start()
        await self._wait_until_serving(ip, port)
        return ip, port

    async def _wait_until_serving(self, ip: str, port: int) -> None:
        url = f"http://{ip}:{port}{self.server.base_url}api"
        client = AsyncHTTPClient()
        deadline = time.monotonic() + self.start_timeout
        checks = 0
        while time.monotonic() < deadline:
            checks += 1
            try:
                await client.fetch(url, request_timeout=2, connect_timeout=1)
                return
            except HTTPClientError as e:
                if e.code < 500:
                    return
            except (ConnectionError, OSError):
                pass
            if checks % 20 == 0 and not await self._container_running():
                logs = await self._container_logs()
                raise RuntimeError(
                    f"The JupyterLab server of {self.user.name} exited while starting. "
                    f"Last lines of its log:\n{logs}"
                )
            await asyncio.sleep(self.readiness_interval)
        # Let the hub's own check report the timeout as it usually does.

    async def _container_running(self) -> bool:
        try:
            info = await self.docker("inspect_container", self.object_id)
        except Exception:
            return False
        return bool(info["State"].get("Running"))

    async def _container_logs(self) -> str:
        try:
            out = await self.docker("logs", self.object_id, tail=15)
        except Exception:
            return "(no log: the container is gone)"
        return out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)
