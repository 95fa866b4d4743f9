"""Learning Studio's own hub settings.

Each setting is a traitlet with its help text, as JupyterHub declares its own. Defaults
come from the environment (``STUDIO_*`` variables), so ``jupyterhub_config.py`` stays
thin and the same config serves the compose stack, a host run and the tests.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlparse

from traitlets import Bool, Dict, Float, Integer, Unicode, default, validate
from traitlets.config import Configurable

from studio_contracts.config_d import ENV as CONFIG_D_ENV
from studio_contracts.logs import check_log_format
from studio_contracts.signing import SECRET_ENV


class StudioConfigError(Exception):
    """A setting is wrong; the message says which and what to do."""


_MEM_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT])?i?[bB]?\s*$")
_UNITS = {None: 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_memory(value: str | int) -> int:
    """Parse a memory size such as ``512M`` or ``1.5G`` into bytes.

    Raises StudioConfigError on anything else, saying what a valid value looks like.
    """
    if isinstance(value, int):
        size = value
    else:
        m = _MEM_RE.match(str(value))
        if not m:
            raise StudioConfigError(
                f"memory limit {value!r} is not a size: use a number of bytes or a "
                "number with K, M or G, such as 512M or 2G"
            )
        size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower() or None])
    if size < 64 * 1024**2:
        raise StudioConfigError(
            f"memory limit {value!r} is below 64M: a JupyterLab server cannot start in that; "
            "use at least 256M"
        )
    return size


def parse_home_quota(value: str) -> int:
    """Bytes of a home quota such as ``1G``; 0 (or off) when there is none."""
    if str(value).strip().lower() in ("0", "off", "none", ""):
        return 0
    m = _MEM_RE.match(str(value))
    if not m:
        raise StudioConfigError(
            f"STUDIO_HOME_QUOTA {value!r} is not a size: use a number with M or G, such as "
            "1G or 500M, or 0 to turn the home quota off")
    size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower() or None])
    if size < 16 * 1024**2:
        raise StudioConfigError(
            f"STUDIO_HOME_QUOTA {value!r} is below 16M: JupyterLab keeps its settings and "
            "checkpoints in the home; use at least 100M, or 0 to turn the quota off")
    return size


_ON = ("1", "true", "on", "yes")
_OFF = ("0", "false", "off", "no")


def parse_switch(name: str, value: str) -> bool:
    """An on/off setting from the environment, such as STUDIO_SUBDOMAINS=0."""
    text = str(value).strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise StudioConfigError(
        f"{name}={value!r} is neither on nor off: use 1, true, on or yes to turn it on, "
        "or 0, false, off or no to turn it off")


def missing_image_message(image: str) -> str:
    """What to do when the learner image is not on the engine (hub start or spawn)."""
    return (f"learner image {image!r} is not on this Docker engine. Build it with "
            "`./studio build`, or set STUDIO_LEARNER_IMAGE to an image that exists.")


def is_loopback(host: str) -> bool:
    """A name or address that only this machine reaches: localhost, *.localhost (which
    browsers resolve to loopback), 127.0.0.0/8, ::1."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env(name: str, fallback: str) -> str:
    return os.environ.get(name, "") or fallback


def _psycopg_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3, the driver the hub's image has, as for
    the grader and the site (SQLAlchemy alone would look for psycopg2)."""
    url = url.strip()
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


class StudioSettings(Configurable):
    """Where Learning Studio runs and how learner containers are shaped."""

    data_dir = Unicode(
        help="""Folder for the hub's state: its SQLite database, cookie secret and the
        admin API token. Env: STUDIO_DATA_DIR. Back this folder up.""",
    ).tag(config=True)

    @default("data_dir")
    def _data_dir_default(self):
        return _env("STUDIO_DATA_DIR", str(Path.cwd() / "data" / "hub"))

    public_host = Unicode(
        help="""Host name that browsers use. Learner servers get their own origin under
        it (<name>.<host>), so a notebook's output can never act with the hub's or the
        site's cookies; `localhost` works in every browser because *.localhost resolves
        to loopback. With subdomains off, learners' servers are on this host too
        (/user/<name>/). Env: STUDIO_PUBLIC_HOST.""",
    ).tag(config=True)

    @default("public_host")
    def _public_host_default(self):
        return _env("STUDIO_PUBLIC_HOST", "localhost")

    port = Integer(
        help="Public port of the proxy. Env: STUDIO_PORT.",
    ).tag(config=True)

    @default("port")
    def _port_default(self):
        return int(_env("STUDIO_PORT", "8000"))

    bind_ip = Unicode(
        help="""Address the public proxy listens on. The default keeps the demo on this
        machine; use 0.0.0.0 behind a TLS-terminating reverse proxy. Env: STUDIO_BIND_IP.""",
    ).tag(config=True)

    @default("bind_ip")
    def _bind_ip_default(self):
        return _env("STUDIO_BIND_IP", "127.0.0.1")

    public_url = Unicode(
        help="""The URL browsers use, scheme and port included; every public URL (the
        hub's, the learners' servers' (<name>.<host>, or /user/<name>/ with subdomains
        off), the site's, the OAuth callback) is
        derived from it. Default: http://<public_host>:<port>. Behind the TLS front
        (STUDIO_TLS) `./studio up` sets https://<host>[:<STUDIO_HTTPS_PORT>]. Its host
        must be public_host. Env: STUDIO_PUBLIC_URL.""",
    ).tag(config=True)

    @default("public_url")
    def _public_url_default(self):
        explicit = _env("STUDIO_PUBLIC_URL", "")
        if explicit:
            return explicit.rstrip("/")
        return f"http://{self.public_host}" + ("" if self.port == 80 else f":{self.port}")

    @validate("public_url")
    def _validate_public_url(self, proposal):
        url = proposal["value"].rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or parsed.path or parsed.query:
            raise StudioConfigError(
                f"STUDIO_PUBLIC_URL={url!r} is not a public URL: use http(s)://host[:port], "
                "without a path")
        if (parsed.hostname or "") != self.public_host.strip("[]").lower().rstrip("."):
            raise StudioConfigError(
                f"STUDIO_PUBLIC_URL={url!r} names another host than STUDIO_PUBLIC_HOST="
                f"{self.public_host}: set both to the same host")
        return url

    subdomains = Bool(
        help="""Each learner's server on its own origin, <name>.<host> (JupyterHub's
        subdomain_host; the default). Notebook output is HTML and JavaScript the learner
        controls: on its own origin it cannot act with the cookies of whoever opens it.
        This needs a wildcard DNS record (*.<host>) and, with TLS, a certificate per
        learner (on demand) or a wildcard one. Off: the path-based mode, every learner's
        server at <public URL>/user/<name>/ on the one public host, with no wildcard
        record; all learners' servers then share one origin, so one learner's notebook
        output, opened by another person, can act on that person's server.
        Env: STUDIO_SUBDOMAINS (1/true/on/yes or 0/false/off/no).""",
    ).tag(config=True)

    @default("subdomains")
    def _subdomains_default(self):
        return parse_switch("STUDIO_SUBDOMAINS", _env("STUDIO_SUBDOMAINS", "1"))

    tls_ask_port = Integer(
        help="""Loopback port of the `tls-ask` hub service, which tells the TLS front
        (Caddy's on-demand certificates) whether a name is the public host, an existing
        user's <name>.<host> or a service's subdomain (with subdomains off: the public
        host only). 0 (the default without TLS): no such service. Env: STUDIO_TLS_ASK_PORT.""",
    ).tag(config=True)

    @default("tls_ask_port")
    def _tls_ask_port_default(self):
        return int(_env("STUDIO_TLS_ASK_PORT", "0"))

    proxy_api_url = Unicode(
        help="""REST API of configurable-http-proxy, which runs as its own process so that
        learners stay reachable while the hub restarts. Env: STUDIO_PROXY_API_URL.""",
    ).tag(config=True)

    @default("proxy_api_url")
    def _proxy_api_url_default(self):
        return _env("STUDIO_PROXY_API_URL", "http://127.0.0.1:8001")

    proxy_auth_token = Unicode(
        help="""Shared secret between the hub and the proxy. Env: CONFIGPROXY_AUTH_TOKEN;
        generated into the data folder when unset.""",
    ).tag(config=True)

    @default("proxy_auth_token")
    def _proxy_auth_token_default(self):
        return os.environ.get("CONFIGPROXY_AUTH_TOKEN") or self.secret_file("proxy-token")

    hub_port = Integer(
        help="Port of the hub's own server, on the learner network's gateway. Env: STUDIO_HUB_PORT.",
    ).tag(config=True)

    @default("hub_port")
    def _hub_port_default(self):
        return int(_env("STUDIO_HUB_PORT", "8081"))

    prefix = Unicode(
        help="""Name prefix of every Docker object Learning Studio creates (containers,
        volumes, the learner network), so that several stacks can share one engine and
        tests can clean up after themselves. Env: STUDIO_PREFIX.""",
    ).tag(config=True)

    @default("prefix")
    def _prefix_default(self):
        return _env("STUDIO_PREFIX", "studio")

    @validate("prefix")
    def _validate_prefix(self, proposal):
        value = proposal["value"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,30}", value):
            raise StudioConfigError(
                f"STUDIO_PREFIX {value!r} must be 1-31 lower-case letters, digits, '-', '_' or '.'"
            )
        return value

    learner_image = Unicode(
        help="""Docker image of a learner's JupyterLab; the grading sandbox runs the same
        image. Built by `./studio build`. Env: STUDIO_LEARNER_IMAGE.""",
    ).tag(config=True)

    @default("learner_image")
    def _learner_image_default(self):
        return _env("STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest")

    mem_limit = Unicode(
        help="Memory limit of a learner container, e.g. 1G. Env: STUDIO_MEM_LIMIT.",
    ).tag(config=True)

    @default("mem_limit")
    def _mem_limit_default(self):
        return _env("STUDIO_MEM_LIMIT", "1G")

    @validate("mem_limit")
    def _validate_mem_limit(self, proposal):
        parse_memory(proposal["value"])
        return proposal["value"]

    cpu_limit = Float(
        help="CPU cores a learner container may use. Env: STUDIO_CPU_LIMIT.",
    ).tag(config=True)

    @default("cpu_limit")
    def _cpu_limit_default(self):
        return float(_env("STUDIO_CPU_LIMIT", "1.0"))

    @validate("cpu_limit")
    def _validate_cpu_limit(self, proposal):
        if not 0.05 <= proposal["value"] <= 64:
            raise StudioConfigError(
                f"STUDIO_CPU_LIMIT {proposal['value']} is out of range: use 0.05 to 64 cores"
            )
        return proposal["value"]

    pids_limit = Integer(
        help="""Most processes and threads a learner container may have: stops a fork
        bomb without getting in the way of a kernel or two. Env: STUDIO_PIDS_LIMIT.""",
    ).tag(config=True)

    @default("pids_limit")
    def _pids_limit_default(self):
        return int(_env("STUDIO_PIDS_LIMIT", "256"))

    network_policy = Unicode(
        help="""What learner containers may reach. `closed` (default): only the hub and
        the grader, not the internet, not the cloud metadata address, not each other.
        `open`: the internet too (for courses that download data), still not each other.
        Env: STUDIO_NETWORK_POLICY.""",
    ).tag(config=True)

    @default("network_policy")
    def _network_policy_default(self):
        return _env("STUDIO_NETWORK_POLICY", "closed")

    @validate("network_policy")
    def _validate_network_policy(self, proposal):
        if proposal["value"] not in ("closed", "open"):
            raise StudioConfigError(
                f"STUDIO_NETWORK_POLICY {proposal['value']!r} is unknown: use closed or open"
            )
        return proposal["value"]

    learner_subnet = Unicode(
        help="""Subnet of the learner network, e.g. 10.213.0.0/16; empty lets Docker pick
        one. Env: STUDIO_LEARNER_SUBNET.""",
    ).tag(config=True)

    @default("learner_subnet")
    def _learner_subnet_default(self):
        return _env("STUDIO_LEARNER_SUBNET", "")

    idle_timeout = Integer(
        help="""Seconds of inactivity after which a learner's server is stopped (their
        files stay). 0 turns the culler off. Env: STUDIO_IDLE_TIMEOUT.""",
    ).tag(config=True)

    @default("idle_timeout")
    def _idle_timeout_default(self):
        return int(_env("STUDIO_IDLE_TIMEOUT", "3600"))

    home_quota = Unicode(
        help="""Most a learner's home may hold, such as 1G or 500M; 0 turns the quota off
        (homes are then plain Docker volumes on the host's disk). Each home is an ext4
        file system of that size in an image file under homes_dir (hub/homes.py).
        Raising it grows every home at its learner's next spawn; lowering it applies to
        new homes only. Env: STUDIO_HOME_QUOTA.""",
    ).tag(config=True)

    @default("home_quota")
    def _home_quota_default(self):
        return _env("STUDIO_HOME_QUOTA", "1G")

    @validate("home_quota")
    def _validate_home_quota(self, proposal):
        parse_home_quota(proposal["value"])
        return proposal["value"]

    @property
    def home_quota_bytes(self) -> int:
        return parse_home_quota(self.home_quota)

    homes_dir = Unicode(
        help="""Host folder of the learners' home images (<prefix>-home-<user>.img), when
        home_quota is on. A path on the Docker host: the hub's container mounts it at
        the same path. Env: STUDIO_HOMES_DIR.""",
    ).tag(config=True)

    @default("homes_dir")
    def _homes_dir_default(self):
        return _env("STUDIO_HOMES_DIR", "/var/lib/learning-studio/homes")

    @validate("homes_dir")
    def _validate_homes_dir(self, proposal):
        if not proposal["value"].startswith("/"):
            raise StudioConfigError(
                f"STUDIO_HOMES_DIR {proposal['value']!r} is not an absolute path: give the "
                "host folder for learners' home images, such as /var/lib/learning-studio/homes")
        return proposal["value"].rstrip("/") or "/"

    kernel_cull_timeout = Integer(
        help="""Seconds a kernel may sit idle inside a learner's server before the server
        shuts it down (MappingKernelManager.cull_idle_timeout); a busy kernel is never
        culled. 0 turns kernel culling off. Env: STUDIO_KERNEL_CULL_TIMEOUT.""",
    ).tag(config=True)

    @default("kernel_cull_timeout")
    def _kernel_cull_timeout_default(self):
        return int(_env("STUDIO_KERNEL_CULL_TIMEOUT", "1200"))

    kernel_cull_interval = Integer(
        help="""Seconds between the server's checks for idle kernels
        (MappingKernelManager.cull_interval). Env: STUDIO_KERNEL_CULL_INTERVAL.""",
    ).tag(config=True)

    @default("kernel_cull_interval")
    def _kernel_cull_interval_default(self):
        return int(_env("STUDIO_KERNEL_CULL_INTERVAL", "300"))

    kernel_cull_connected = Bool(
        help="""Cull idle kernels that still have a notebook open in a browser tab too
        (MappingKernelManager.cull_connected). Env: STUDIO_KERNEL_CULL_CONNECTED=1.""",
    ).tag(config=True)

    @default("kernel_cull_connected")
    def _kernel_cull_connected_default(self):
        return _env("STUDIO_KERNEL_CULL_CONNECTED", "0") not in ("0", "false", "no", "")

    login = Unicode(
        help="""How people sign in. `site`: through the Wagtail site, the identity
        provider (OpenID Connect single sign-on; the compose stack's default). `password`:
        the demo accounts with one shared password, for a hub run without the site.
        Env: STUDIO_LOGIN.""",
    ).tag(config=True)

    @default("login")
    def _login_default(self):
        return _env("STUDIO_LOGIN", "password")

    @validate("login")
    def _validate_login(self, proposal):
        if proposal["value"] not in ("site", "password"):
            raise StudioConfigError(
                f"STUDIO_LOGIN={proposal['value']!r} is not a login: use `site` (single "
                "sign-on through the Wagtail site) or `password` (shared demo password)")
        return proposal["value"]

    site_url = Unicode(
        help="""Public URL of the Wagtail site, as browsers reach it. Default: the hub's
        own public URL: the proxy serves the site there, beside /hub/ and /user/. Env:
        STUDIO_SITE_URL.""",
    ).tag(config=True)

    @default("site_url")
    def _site_url_default(self):
        return _env("STUDIO_SITE_URL", self.public_url).rstrip("/")

    site_internal_url = Unicode(
        help="""Where the hub and the proxy reach the site's web server (token and userinfo
        calls; the proxy's route to it). Env: STUDIO_SITE_INTERNAL_URL.""",
    ).tag(config=True)

    @default("site_internal_url")
    def _site_internal_url_default(self):
        return _env("STUDIO_SITE_INTERNAL_URL", "http://127.0.0.1:8010").rstrip("/")

    site_client_id = Unicode(
        "jupyterhub", help="The hub's OAuth client id on the site (ensure_hub_client).",
    ).tag(config=True)

    site_client_secret = Unicode(
        help="""The hub's OAuth client secret on the site; the site must be given the same
        one (LS_HUB_CLIENT_SECRET). Env: STUDIO_OIDC_CLIENT_SECRET; generated into the data
        folder when unset.""",
    ).tag(config=True)

    @default("site_client_secret")
    def _site_client_secret_default(self):
        return (os.environ.get("STUDIO_OIDC_CLIENT_SECRET")
                or self.secret_file("oidc-client-secret"))

    demo = Bool(
        help="""Demo accounts: with `password` login, the demo instructor and learners and
        their course groups; with `site` login the site seeds the same people. Default: on
        when the hub is reachable only from this machine (loopback STUDIO_PUBLIC_HOST and
        STUDIO_BIND_IP), off otherwise, where it is refused. Env: STUDIO_DEMO=1.""",
    ).tag(config=True)

    @default("demo")
    def _demo_default(self):
        # on a host others reach, no demo unless asked for (and then refused)
        fallback = "1" if self.local_only else "0"
        return _env("STUDIO_DEMO", fallback) not in ("0", "false", "no", "")

    demo_password = Unicode(
        help="Shared password of the demo accounts. Env: STUDIO_DEMO_PASSWORD.",
    ).tag(config=True)

    @default("demo_password")
    def _demo_password_default(self):
        return _env("STUDIO_DEMO_PASSWORD", "learn-with-notebooks")

    demo_courses = Dict(
        help="Demo course → instructors and learners, as hub groups.",
    ).tag(config=True)

    @default("demo_courses")
    def _demo_courses_default(self):
        return {
            "python-foundations": {"instructors": ["ada"], "learners": ["alan", "grace"]},
            "data-analysis-pandas": {"instructors": ["ada"], "learners": ["alan", "grace"]},
        }

    grader_port = Integer(
        help="""Port of the grader service, on the learner network's gateway (learner
        servers and the proxy reach it there). Env: STUDIO_GRADER_PORT.""",
    ).tag(config=True)

    @default("grader_port")
    def _grader_port_default(self):
        return int(_env("STUDIO_GRADER_PORT", "8082"))

    grader_db_url = Unicode(
        help="""The grader's database. Default: SQLite in the data folder. Env:
        STUDIO_GRADER_DB_URL (postgresql://user:pass@host/grader lets several grader
        processes share one queue).""",
    ).tag(config=True)

    @default("grader_db_url")
    def _grader_db_url_default(self):
        return _env("STUDIO_GRADER_DB_URL",
                    f"sqlite:///{Path(self.data_dir) / 'grader' / 'grader.sqlite'}")

    grader_work_root = Unicode(
        help="""Folder for the grading sandboxes' kernel sockets and inboxes. It is
        bind-mounted into sandbox containers, so it must be a path on the Docker host
        (when the hub runs in a container, mounted at the same path). Env:
        STUDIO_GRADER_WORK_ROOT.""",
    ).tag(config=True)

    @default("grader_work_root")
    def _grader_work_root_default(self):
        return _env("STUDIO_GRADER_WORK_ROOT", str(Path(self.data_dir) / "grader" / "work"))

    grader_workers = Integer(
        help="Submissions graded at the same time. Env: STUDIO_GRADER_WORKERS.",
    ).tag(config=True)

    @default("grader_workers")
    def _grader_workers_default(self):
        return int(_env("STUDIO_GRADER_WORKERS", "2"))

    grader_mem_limit = Unicode(
        help="""Memory limit of the grader service (Docker's form: 2g, 1536m). Set, the
        grader runs in a container of its own beside the hub's (hub/grader_container.py),
        so a submission that exhausts the grader's memory stops the grader, not the hub;
        the hub restarts it. Empty: the grader runs in the hub's container, without a
        limit of its own. Env: STUDIO_GRADER_MEM_LIMIT.""",
    ).tag(config=True)

    @default("grader_mem_limit")
    def _grader_mem_limit_default(self):
        return _env("STUDIO_GRADER_MEM_LIMIT", "")

    @validate("grader_mem_limit")
    def _validate_grader_mem_limit(self, proposal):
        value = proposal["value"].strip()
        if value:
            try:
                parse_memory(value)
            except StudioConfigError as e:
                raise StudioConfigError(f"STUDIO_GRADER_MEM_LIMIT: {e}") from None
        return value

    grade_webhook_url = Unicode(
        help="""Where the grader sends signed grade events (the site's receiver); empty
        turns them off. Env: STUDIO_GRADE_WEBHOOK_URL.""",
    ).tag(config=True)

    @default("grade_webhook_url")
    def _grade_webhook_url_default(self):
        return _env("STUDIO_GRADE_WEBHOOK_URL", "")

    signing_secret = Unicode(
        help="""The secret the grader signs what it sends the site with (grade events),
        and the site checks (studio_contracts.signing). Env: STUDIO_SIGNING_SECRET, the same
        name on every side; generated into the data folder when unset.""",
    ).tag(config=True)

    @default("signing_secret")
    def _signing_secret_default(self):
        return os.environ.get(SECRET_ENV) or self.secret_file("signing-secret")

    hub_db_url = Unicode(
        help="""The hub's database. Default: SQLite in the data folder. Env:
        STUDIO_HUB_DB_URL (e.g. postgresql://user:pass@host/jupyterhub).""",
    ).tag(config=True)

    @default("hub_db_url")
    def _hub_db_url_default(self):
        return _psycopg_url(
            _env("STUDIO_HUB_DB_URL", f"sqlite:///{Path(self.data_dir) / 'jupyterhub.sqlite'}"))

    @validate("hub_db_url")
    def _validate_hub_db_url(self, proposal):
        return _psycopg_url(proposal["value"])

    admin_token = Unicode(
        help="""API token of the `studio-admin` service that the project's own tooling
        uses. Env: STUDIO_ADMIN_TOKEN; generated into the data folder (mode 0600) when
        unset, and never kept in the repository.""",
    ).tag(config=True)

    @default("admin_token")
    def _admin_token_default(self):
        return os.environ.get("STUDIO_ADMIN_TOKEN") or self.secret_file("admin-token")

    metrics_token = Unicode(
        help="""Token of the `prometheus` hub service, granted only `read:metrics` (the
        hub's /hub/metrics); the grader's and the site's /metrics take the same token.
        Env: STUDIO_METRICS_TOKEN (./studio up generates it into data/studio.env). Empty:
        no metrics service; the metrics stay readable by hub admins only.""",
    ).tag(config=True)

    @default("metrics_token")
    def _metrics_token_default(self):
        return os.environ.get("STUDIO_METRICS_TOKEN", "")

    grader_metrics_port = Integer(
        help="""Loopback port where the grader also serves its /metrics (to the metrics
        token only), for a Prometheus on this host: the grader's own address is on the
        learner network's gateway. 0: off. Env: STUDIO_GRADER_METRICS_PORT.""",
    ).tag(config=True)

    @default("grader_metrics_port")
    def _grader_metrics_port_default(self):
        return int(_env("STUDIO_GRADER_METRICS_PORT", "0"))

    log_format = Unicode(
        help="""`text` (default) or `json`: one JSON object per log line (time, level,
        logger, message, and user/course/assignment where known) from the hub and the
        grader, for a log collector. The site reads the same variable. Env:
        STUDIO_LOG_FORMAT.""",
    ).tag(config=True)

    @default("log_format")
    def _log_format_default(self):
        return _env("STUDIO_LOG_FORMAT", "text")

    @validate("log_format")
    def _validate_log_format(self, proposal):
        try:
            return check_log_format(proposal["value"], "STUDIO_LOG_FORMAT")
        except ValueError as e:
            raise StudioConfigError(str(e)) from None

    config_d = Unicode(
        help="""The operator's config.d folder (studio_contracts.config_d): the hub runs
        the files of its `hub/` subfolder, in sorted order, after its own configuration,
        and passes the folder on to the grader (its `grader/` subfolder). Empty: none. In
        the stack, data/config.d of the checkout, mounted read-only at
        /etc/learning-studio/config.d. Env: STUDIO_CONFIG_D.""",
    ).tag(config=True)

    @default("config_d")
    def _config_d_default(self):
        return _env(CONFIG_D_ENV, "")

    log_max_size = Unicode(
        help="""Log rotation of the containers the hub starts (learner servers, grading
        sandboxes, the grader's own container): Docker's json-file log is rotated at this
        size (Docker's form: 10m, 500k, 1g) and log_max_files files are kept, so a chatty
        container cannot fill the disk. Env: STUDIO_LOG_MAX_SIZE (the compose services use
        the same).""",
    ).tag(config=True)

    @default("log_max_size")
    def _log_max_size_default(self):
        return _env("STUDIO_LOG_MAX_SIZE", "10m").strip()

    @validate("log_max_size")
    def _validate_log_max_size(self, proposal):
        value = proposal["value"].strip().lower()
        if not re.fullmatch(r"[1-9][0-9]*[kmg]", value):
            raise StudioConfigError(
                f"STUDIO_LOG_MAX_SIZE={proposal['value']!r} is not a log size: use a number "
                "with k, m or g, such as 10m")
        return value

    log_max_files = Integer(
        help="""How many rotated log files Docker keeps per container (with
        STUDIO_LOG_MAX_SIZE). Env: STUDIO_LOG_MAX_FILES.""",
    ).tag(config=True)

    @default("log_max_files")
    def _log_max_files_default(self):
        value = _env("STUDIO_LOG_MAX_FILES", "5").strip()
        if not value.isdigit():
            raise StudioConfigError(
                f"STUDIO_LOG_MAX_FILES={value!r} is not a number of files: use 1 or more, "
                "such as 5")
        return int(value)

    @validate("log_max_files")
    def _validate_log_max_files(self, proposal):
        if proposal["value"] < 1:
            raise StudioConfigError(
                f"STUDIO_LOG_MAX_FILES={proposal['value']} keeps no log: use 1 or more, "
                "such as 5")
        return proposal["value"]

    @property
    def log_config(self) -> dict:
        """Docker's log_config (docker-py's form) for the containers the hub starts."""
        return {"type": "json-file",
                "config": {"max-size": self.log_max_size, "max-file": str(self.log_max_files)}}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Defaults computed from the environment skip traitlets' validation; run it
        # now, so that a bad STUDIO_* value stops the hub before it starts.
        for name in ("prefix", "mem_limit", "cpu_limit", "network_policy", "login",
                     "grader_mem_limit", "log_format", "log_max_size", "log_max_files",
                     "public_url", "home_quota", "homes_dir", "subdomains"):
            setattr(self, name, getattr(self, name))

    def secret_file(self, name: str) -> str:
        """Read a generated secret from the data folder, creating it on first use."""
        path = Path(self.data_dir) / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip()

    @property
    def local_only(self) -> bool:
        """Only this machine reaches the hub: a loopback public host and bind address."""
        return is_loopback(self.public_host) and is_loopback(self.bind_ip)

    def check_exposure(self) -> None:
        """On a host other machines reach, refuse the demo accounts and the shared
        password: anyone who read the README could sign in, and the demo's `admin`
        administers the hub and the grader."""
        if self.local_only:
            return
        where = (f"STUDIO_PUBLIC_HOST={self.public_host} with STUDIO_BIND_IP={self.bind_ip} "
                 "is reachable from other machines")
        if self.login == "password":
            raise StudioConfigError(
                f"{where}, and STUDIO_LOGIN=password signs everyone in with one shared "
                "password. Use STUDIO_LOGIN=site (sign-in through the site, where "
                "`./studio up` creates the first administrator with a generated "
                "password), or keep the demo on this machine (STUDIO_PUBLIC_HOST=localhost, "
                "STUDIO_BIND_IP=127.0.0.1).")
        if self.demo:
            raise StudioConfigError(
                f"{where}, and STUDIO_DEMO=1 asks for the demo accounts, whose password is "
                "published (their `admin` administers the hub and the grader). Unset "
                "STUDIO_DEMO or set STUDIO_DEMO=0: `./studio up` then creates the first "
                "administrator with a generated password.")


