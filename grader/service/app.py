"""The grader service: the tornado application JupyterHub runs at /services/grader/.

``python -m grader serve`` starts it. JupyterHub, running it as a managed service, sets
JUPYTERHUB_SERVICE_PREFIX (the URL prefix), JUPYTERHUB_SERVICE_URL (where to listen),
JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN (to ask the hub who a caller is). The same
process runs worker_count grading workers and the CMS webhook sender.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
import os
import signal
import sys
from urllib.parse import urlparse

from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer
from traitlets import Bool, Integer, Unicode, default, validate
from traitlets.config import Application

from grader.engine.sandbox import DockerSandbox, SandboxPool
from grader.service.ai import AIEndpoint
from grader.service.apihandlers import (
    courses,
    drafts,
    lessons,
    login,
    metrics,
    openapi,
    submissions,
    tutor,
)
from grader.service.auth import make_hub_auth
from grader.service.config import GraderSettings
from grader.service.gradebook import Gradebook, open_gradebook
from grader.service.metrics import GraderMetrics
from grader.service.webhook import CMSNotifier
from grader.service.worker import GradingWorker, worker_id
from studio_contracts import config_d
from studio_contracts.logs import JsonFormatter, check_log_format

log = logging.getLogger("grader")


def make_sandbox_pool(config, remove_stale: bool | None = None):
    """The engine's pool of warm sandbox containers, configured by c.SandboxPool/DockerSandbox.

    remove_stale=False for short-lived CLI pools: a CLI run next to a running service
    must not remove the service's sandboxes (they share the container name prefix).
    """
    if remove_stale is None:
        return SandboxPool(config=config)
    return SandboxPool(config=config, remove_stale=remove_stale)


class GraderApp(Application):
    name = "grader"
    description = "Learning Studio grader service (run by JupyterHub as a managed service)"

    config_file = Unicode(
        "grader_config.py",
        help="traitlets config file to load (c.GraderSettings..., c.SandboxPool..., ...)",
    ).tag(config=True)

    config_d = Unicode(
        help="""The operator's config.d folder (studio_contracts.config_d): its `grader/`
        subfolder's *.py files run in sorted order after config_file, on the same `c`, and
        win over it; the command line wins over both. Env STUDIO_CONFIG_D (the hub passes
        its own). Empty: none.""",
    ).tag(config=True)

    @default("config_d")
    def _default_config_d(self) -> str:
        return os.environ.get(config_d.ENV, "")

    ip = Unicode(help="Address to listen on (default: from JUPYTERHUB_SERVICE_URL).").tag(
        config=True
    )
    port = Integer(help="Port to listen on (default: from JUPYTERHUB_SERVICE_URL).").tag(
        config=True
    )
    service_prefix = Unicode(
        help="URL prefix of the service (default: JUPYTERHUB_SERVICE_PREFIX or /services/grader/)"
    ).tag(config=True)
    upgrade_db = Bool(
        True,
        help="""Apply pending database migrations at start. With several grader processes on
        one PostgreSQL database, set False and run `python -m grader db upgrade` once.""",
    ).tag(config=True)

    metrics_port = Integer(
        help="""Also serve the metrics at /metrics on this port of metrics_ip (and nothing
        else there), for a Prometheus on the same host that cannot reach the service's own
        address (env GRADER_METRICS_PORT; the stack's STUDIO_GRADER_METRICS_PORT). The
        same token is needed as at <prefix>/metrics. 0: off.""",
    ).tag(config=True)

    @default("metrics_port")
    def _default_metrics_port(self) -> int:
        return int(os.environ.get("GRADER_METRICS_PORT") or 0)

    metrics_ip = Unicode(
        "127.0.0.1", help="Address of the metrics port (loopback: this host only).",
    ).tag(config=True)

    log_style = Unicode(
        help="""`text` (default): one readable line per event. `json`: one JSON object per
        line (time, level, logger, message, user, course, assignment, exc) for a log
        collector (env GRADER_LOG_FORMAT; the stack's STUDIO_LOG_FORMAT).""",
    ).tag(config=True)

    @default("log_style")
    def _default_log_style(self) -> str:
        return os.environ.get("GRADER_LOG_FORMAT") or "text"

    @validate("log_style")
    def _validate_log_style(self, proposal):
        try:
            return check_log_format(proposal["value"], "GraderApp.log_style")
        except ValueError as e:
            raise ValueError(f"{e} (env GRADER_LOG_FORMAT)") from None

    aliases = {
        "config": "GraderApp.config_file",
        "ip": "GraderApp.ip",
        "port": "GraderApp.port",
        "db": "GraderSettings.database_url",
        "blobs": "GraderSettings.blob_dir",
        "workers": "GraderSettings.worker_count",
    }

    @default("ip")
    def _default_ip(self) -> str:
        url = os.environ.get("JUPYTERHUB_SERVICE_URL")
        return urlparse(url).hostname if url else "127.0.0.1"

    @default("port")
    def _default_port(self) -> int:
        url = os.environ.get("JUPYTERHUB_SERVICE_URL")
        return (urlparse(url).port or 80) if url else 10101

    @default("service_prefix")
    def _default_prefix(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/grader/")

    metrics: GraderMetrics | None = None  # made by initialize()

    @property
    def classes(self):
        return [GraderApp, GraderSettings, SandboxPool, DockerSandbox]

    def initialize(self, argv=None) -> None:
        super().initialize(argv)
        if self.config_file and os.path.exists(self.config_file):
            self.load_config_file(self.config_file)
        try:
            self.load_config_d()
        except config_d.ConfigFileError as e:
            print(f"grader: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        try:  # a default from the environment skips validation: check it now
            self.log_style = self.log_style
        except ValueError as e:
            print(f"grader: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        configure_logging(self.log_style)
        self.grader_settings = GraderSettings(parent=self)
        self.gradebook: Gradebook = open_gradebook(self.grader_settings, upgrade=self.upgrade_db)
        self.metrics = GraderMetrics(self.gradebook.sessions, lambda: {
            "blobs": self.grader_settings.blob_dir,
            "work": self.sandbox_pool.runner.work_root if self.sandbox_pool else "",
        })
        self.notifier = CMSNotifier(self.grader_settings, self.gradebook.sessions)
        self.sandbox_pool = None

    def load_config_d(self) -> list:
        """Run <config_d>/grader/*.py on a copy of the config so far, then apply it."""
        files = config_d.config_files(config_d.part_folder("grader", self.config_d))
        if not files:
            return []
        config = copy.deepcopy(self.config)
        namespace = {"c": config, "get_config": lambda: config}
        for path in files:
            print(f"grader: loading config file {path}", file=sys.stderr, flush=True)
            config_d.run_config_file(path, namespace)
        config.merge(self.cli_config)  # the hub's command line (image, work root) wins
        self.update_config(config)
        return files

    def make_tornado_app(self) -> web.Application:
        prefix = self.service_prefix
        hub_auth = make_hub_auth(self.grader_settings)

        def route(path: str) -> str:
            return url_path_join(prefix, path)

        num = r"(?P<submission_id>[0-9]+)"
        name = r"(?P<{}>[^/]+)"
        c, a = name.format("course"), name.format("assignment")
        handlers = [
            (route("api/health"), courses.HealthHandler),
            (route("metrics"), metrics.MetricsHandler),
            (route("api/openapi.json"), openapi.OpenAPIHandler),
            (route("api/me"), courses.MeHandler),
            (route("api/queue"), courses.QueueHandler),
            (route("api/courses"), courses.CoursesHandler),
            (route(f"api/courses/{c}/enrollments"), courses.EnrollmentsHandler),
            (route(f"api/courses/{c}/grades.csv"), courses.GradesCSVHandler),
            (route(f"api/courses/{c}/storage"), courses.StorageHandler),
            (route(f"api/courses/{c}/assignments"), courses.AssignmentsHandler),
            (route(f"api/courses/{c}/lessons"), lessons.LessonsHandler),
            (route(f"api/courses/{c}/lessons/{name.format('lesson')}"), lessons.LessonHandler),
            (route(f"api/courses/{c}/assignments/{a}/hints"), lessons.HintsHandler),
            (route(f"api/courses/{c}/drafts"), drafts.DraftsHandler),
            (route(f"api/courses/{c}/drafts/{name.format('draft_id')}"), drafts.DraftHandler),
            (route(f"api/courses/{c}/assignments/{a}/tutor"), tutor.TutorHandler),
            (route(f"api/courses/{c}/assignments/{a}/tutor/conversations"),
             tutor.TutorConversationsHandler),
            (route(f"api/courses/{c}/tutor/conversations/{name.format('conversation_id')}"),
             tutor.TutorConversationHandler),
            (route(f"api/courses/{c}/tutor/usage"), tutor.TutorUsageHandler),
            (route(f"api/courses/{c}/tutor/policy"), tutor.TutorPolicyHandler),
            (route(f"api/courses/{c}/assignments/{a}/release"), courses.ReleaseHandler),
            (route(f"api/courses/{c}/assignments/{a}/source"), courses.SourceHandler),
            (route(f"api/courses/{c}/assignments/{a}/statistics"), courses.StatisticsHandler),
            (route(f"api/courses/{c}/assignments/{a}/submissions"),
             submissions.SubmissionsHandler),
            (route(f"api/courses/{c}/assignments/{a}/regrade"),
             submissions.RegradeAssignmentHandler),
            (route(f"api/submissions/{num}"), submissions.SubmissionHandler),
            (route(f"api/submissions/{num}/files"), submissions.SubmissionFilesHandler),
            (route(f"api/submissions/{num}/feedback/{name.format('notebook')}"),
             submissions.FeedbackHandler),
            (route(f"api/submissions/{num}/graded/{name.format('notebook')}"),
             submissions.GradedNotebookHandler),
            (route(f"api/submissions/{num}/regrade"), submissions.RegradeSubmissionHandler),
            (route(f"api/submissions/{num}/grades/{name.format('notebook')}/"
                   f"{name.format('cell_id')}"), submissions.ManualGradeHandler),
            (prefix, login.RootHandler),
            (route("login"), login.LoginHandler),
            (route("oauth_callback"), login.OAuthCallbackHandler),
        ]
        return web.Application(
            handlers,
            hub_auth=hub_auth,
            gradebook=self.gradebook,
            sandbox_pool=self.sandbox_pool,
            metrics=self.metrics,
            metrics_token=self.grader_settings.metrics_token,
            ai=AIEndpoint(self.grader_settings),
            service_prefix=prefix,
            cookie_secret=self.cookie_secret(),
            xsrf_cookies=False,
        )

    def make_metrics_app(self) -> web.Application:
        """/metrics alone, for the loopback metrics port."""
        return web.Application(
            [("/metrics", metrics.MetricsHandler)],
            hub_auth=make_hub_auth(self.grader_settings),
            gradebook=self.gradebook,
            sandbox_pool=self.sandbox_pool,
            metrics=self.metrics,
            metrics_token=self.grader_settings.metrics_token,
            cookie_secret=self.cookie_secret(),
            xsrf_cookies=False,
        )

    def cookie_secret(self) -> bytes:
        """Stable across restarts and shared by processes with the same hub token, so a
        signed-in browser stays signed in; random when run outside the hub."""
        token = os.environ.get("JUPYTERHUB_API_TOKEN")
        if not token:
            return os.urandom(32)
        return hashlib.sha256(b"grader-cookie:" + token.encode()).digest()

    async def start_async(self) -> None:
        settings = self.grader_settings
        self.sandbox_pool = make_sandbox_pool(self.config)
        app = self.make_tornado_app()
        # Tornado drops bodies over this without a reply; the precise, friendly limit is
        # checked by the gradebook, so leave room for multipart and base64 overhead.
        server = HTTPServer(app, max_body_size=2 * settings.max_upload_bytes + (1 << 20),
                            xheaders=True)
        server.listen(self.port, self.ip)
        log.info("grader listening on http://%s:%s%s", self.ip, self.port, self.service_prefix)
        metrics_server = None
        if self.metrics_port:
            metrics_server = HTTPServer(self.make_metrics_app())
            try:
                metrics_server.listen(self.metrics_port, self.metrics_ip)
                log.info("metrics on http://%s:%s/metrics", self.metrics_ip, self.metrics_port)
            except OSError as e:
                # grading matters more than its metrics: go on without the second port
                log.error("cannot serve metrics on %s:%s (%s): another process has the port? "
                          "Set GRADER_METRICS_PORT (the stack's STUDIO_GRADER_METRICS_PORT) "
                          "to a free one; %smetrics still answers", self.metrics_ip,
                          self.metrics_port, e, self.service_prefix)
                metrics_server = None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if settings.worker_count > 0:
            # start warm sandboxes now, so the first submission does not wait for one
            try:
                await self.sandbox_pool.start()
            except Exception as e:
                log.error("sandboxes could not be started (%s): grading jobs will wait and "
                          "retry; check Docker and the learner image", e)
        tasks = [asyncio.ensure_future(self.notifier.run(stop))]
        if settings.blob_gc_interval > 0:
            tasks.append(asyncio.ensure_future(self.collect_garbage(stop)))
        base = worker_id()
        for i in range(settings.worker_count):
            worker = GradingWorker(self.gradebook, self.sandbox_pool, name=f"{base}-w{i}",
                                   metrics=self.metrics)
            tasks.append(asyncio.ensure_future(worker.run(stop, settings.poll_seconds)))
        await stop.wait()
        log.info("stopping: jobs being graded are handed back to the queue")
        server.stop()
        if metrics_server is not None:
            metrics_server.stop()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.sandbox_pool.close()

    async def collect_garbage(self, stop: asyncio.Event) -> None:
        """Remove unreferenced blobs every blob_gc_interval seconds (grader.service.storage)."""
        interval = self.grader_settings.blob_gc_interval
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                report = await asyncio.to_thread(self.gradebook.storage.collect_garbage)
                if report["removed"]:
                    log.info("blob store: removed %d unreferenced file(s), %d bytes",
                             report["removed"], report["removed_bytes"])
            except Exception:
                log.exception("blob garbage collection failed; it is tried again later")

    def start(self) -> None:
        asyncio.run(self.start_async())


class _ContextFilter(logging.Filter):
    """Adds ' [user=... course=... assignment=...]' to log lines that carry them."""

    def filter(self, record: logging.LogRecord) -> bool:
        parts = [
            f"{k}={getattr(record, k)}"
            for k in ("user", "course", "assignment")
            if getattr(record, k, None)
        ]
        record.ctx = f" [{' '.join(parts)}]" if parts else ""
        return True


_context_filter = _ContextFilter()


def configure_logging(log_format: str = "text") -> None:
    """The root logger's handler: readable lines, or one JSON object per line. Replaces
    the command line's (warnings only, for one-off commands): a service logs what it does."""
    logging.basicConfig(
        level=logging.INFO,
        format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s%(ctx)s",
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_context_filter)
        if log_format == "json":
            handler.setFormatter(JsonFormatter())


def main(argv=None) -> None:
    GraderApp.launch_instance(argv)
