"""Wire JupyterHub for Learning Studio from StudioSettings.

``jupyterhub_config.py`` calls :func:`configure`; everything the hub does differently
from a stock install is decided here, in one place, from the settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import docker
from docker.errors import DockerException, ImageNotFound

from studio_contracts.config_d import ENV as CONFIG_D_ENV
from studio_contracts.config_d import ConfigFileError, config_files, part_folder, run_config_file
from studio_contracts.signing import SECRET_ENV

from .grader_container import own_container_id
from .network import ensure_learner_network
from .settings import StudioConfigError, StudioSettings, missing_image_message, parse_memory

ADMIN_SERVICE = "studio-admin"
METRICS_SERVICE = "prometheus"
TLS_ASK_SERVICE = "tls-ask"


def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException as e:
        raise StudioConfigError(
            f"cannot reach the Docker engine ({e}). Start it (`dockerd`, or "
            "`systemctl start docker`) or point DOCKER_HOST at it."
        ) from e
    return client


def check_learner_image(client: docker.DockerClient, image: str) -> None:
    try:
        client.images.get(image)
    except ImageNotFound as e:
        raise StudioConfigError(missing_image_message(image)) from e


AI_NAMES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL")


def ai_environment(environ: dict | None = None) -> dict[str, str]:
    """The AI settings the grader gets from the hub's environment: OPENAI_* (the
    deprecated STUDIO_AI_* names of older installs still count when the new one is unset)."""
    environ = os.environ if environ is None else environ
    found = {}
    for name in AI_NAMES:
        value = environ.get(name) or environ.get("STUDIO_AI_" + name.removeprefix("OPENAI_"))
        if value:
            found[name] = value
    return found


def grader_service(s: StudioSettings, url: str) -> dict:
    """The grader as a hub-managed service: the hub starts it, gives it its token and
    routes /services/grader/ to it."""
    grader_dir = Path(s.data_dir) / "grader"
    (grader_dir / "blobs").mkdir(parents=True, exist_ok=True)
    Path(s.grader_work_root).mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "grader", "serve",
        f"--DockerSandbox.image={s.learner_image}",
        f"--DockerSandbox.work_root={s.grader_work_root}",
        f"--DockerSandbox.name_prefix={s.prefix}-sandbox-",
    ]
    if s.grader_mem_limit:
        # its own container and memory limit: a grader out of memory leaves the hub up
        if own_container_id() is None:
            raise StudioConfigError(
                "STUDIO_GRADER_MEM_LIMIT is set, but the hub does not run in a Docker "
                "container, so the grader cannot get one beside it: unset it, or run the "
                "hub with ./studio up")
        command = [sys.executable, "-m", "hub.grader_container",
                   f"--mem-limit={parse_memory(s.grader_mem_limit)}", f"--name={s.prefix}-grader",
                   f"--log-max-size={s.log_max_size}", f"--log-max-files={s.log_max_files}",
                   "--", *command]
    return {
        "name": "grader",
        "url": url,
        "command": command,
        "cwd": str(grader_dir),
        "environment": {
            "GRADER_DATABASE_URL": s.grader_db_url,
            "GRADER_BLOB_DIR": str(grader_dir / "blobs"),
            "GRADER_WORKERS": str(s.grader_workers),
            "GRADER_WEBHOOK_URL": s.grade_webhook_url,
            SECRET_ENV: s.signing_secret,
            # the stack's course import releases as this service, before any login
            "GRADER_OPERATOR_SERVICES": ADMIN_SERVICE,
            # Prometheus reads /metrics with the metrics token, also on a loopback port
            "GRADER_METRICS_TOKEN": s.metrics_token,
            "GRADER_METRICS_PORT": str(s.grader_metrics_port),
            "GRADER_LOG_FORMAT": s.log_format,
            # the grader runs the files of <config.d>/grader/ after its own settings
            CONFIG_D_ENV: s.config_d,
            # the tutor and AI authoring: the stack's one set of AI names (environment
            # only, never the command line: the key must not show in `ps`)
            **ai_environment(),
        },
        "oauth_no_confirm": True,
    }


def configure_password_login(c, s: StudioSettings) -> None:
    """The demo accounts with one shared password, and their course groups."""
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = s.demo_password
    groups: dict[str, dict] = {}
    users: set[str] = set()
    if s.demo:
        # instructors of any demo course may also create courses on the grader
        groups["instructors"] = {"users": sorted(
            {u for people in s.demo_courses.values() for u in people.get("instructors", [])})}
        for course, people in s.demo_courses.items():
            for role in ("instructors", "learners"):
                members = list(people.get(role, []))
                groups[f"{role}:{course}"] = {"users": members}
                users.update(members)
    c.Authenticator.allowed_users = users
    c.JupyterHub.load_groups = groups


def configure_site_login(c, s: StudioSettings, hub_url: str) -> None:
    """Single sign-on through the Wagtail site (OpenID Connect, PKCE).

    Browsers go to the site's public URL; the hub calls the site's token and userinfo
    endpoints directly. The `groups` claim (admins, editors, instructors,
    instructors:<course>, learners:<course>) becomes the user's hub groups at each login
    and each refresh, and the grader takes course roles from those groups.
    """
    site, internal = s.site_url, s.site_internal_url
    c.JupyterHub.authenticator_class = "hub.auth.SiteAuthenticator"
    g = c.GenericOAuthenticator
    g.client_id = s.site_client_id
    g.client_secret = s.site_client_secret
    g.oauth_callback_url = f"{s.public_url}/hub/oauth_callback"
    g.authorize_url = f"{site}/o/authorize/"
    g.token_url = f"{internal}/o/token/"
    g.userdata_url = f"{internal}/o/userinfo/"
    g.scope = ["openid", "profile", "email", "groups"]
    g.username_claim = "preferred_username"
    g.manage_groups = True
    g.auth_state_groups_key = "oauth_user.groups"
    g.allow_all = True  # every account on the site may use the hub
    g.admin_groups = {"admins"}
    g.enable_pkce = True
    g.login_service = "Learning Studio"
    # Logout ends the site session too, and lands on the site's home page.
    g.logout_redirect_url = (f"{site}/o/logout/?client_id={s.site_client_id}"
                             f"&post_logout_redirect_uri={site}/")
    c.Authenticator.auto_login = True  # the site's login page is the only one
    # Groups follow enrolments without a new login: the access token stays in the
    # encrypted auth_state and userinfo is read again when the login is a minute old.
    g.enable_auth_state = True
    # JupyterHub's CryptKeeper reads its key from the environment, not from config.
    os.environ.setdefault("JUPYTERHUB_CRYPT_KEY", s.secret_file("crypt-key"))
    c.Authenticator.auth_refresh_age = 60
    c.Authenticator.refresh_pre_spawn = True
    if _same_origin(site, s.public_url):
        # The proxy serves the site on the public host; the hub keeps its own paths.
        if s.subdomains:
            # routes by host: the hub's own route (`/`) takes every other host, the
            # learners' <name>.<host> among them
            host = urlparse(s.public_url).hostname
            c.ConfigurableHTTPProxy.extra_routes = {
                f"{host}/": internal,
                f"{host}/hub/": hub_url,
                f"{host}/user/": hub_url,
                f"{host}/services/": hub_url,
            }
        else:
            # routes by path alone: `/` is the site's, so the hub's own route is /hub/
            # (JupyterHub would otherwise take `/` back at every route check)
            c.JupyterHub.hub_routespec = "/hub/"
            c.ConfigurableHTTPProxy.extra_routes = {
                "/": internal,
                "/user/": hub_url,
                "/services/": hub_url,
            }


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlparse(a), urlparse(b)
    return (pa.scheme, pa.netloc) == (pb.scheme, pb.netloc)


def configure(c, settings: StudioSettings | None = None) -> StudioSettings:
    """Fill JupyterHub config ``c`` for Learning Studio, then run the operator's
    config.d/hub files on it. Bad settings stop the hub here, before it starts, with a
    message that says what to change."""
    try:
        s = _configure(c, settings)
        load_config_d(c, s)
        return s
    except StudioConfigError as e:
        # Plain words on stderr, not a traceback: this is the user's to fix.
        print(f"Learning Studio cannot start: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def _configure(c, settings: StudioSettings | None) -> StudioSettings:
    s = settings or StudioSettings(config=c)
    s.check_exposure()  # no demo accounts, no shared password where others can reach
    Path(s.data_dir).mkdir(parents=True, exist_ok=True)

    client = docker_client()
    check_learner_image(client, s.learner_image)
    network, gateway = ensure_learner_network(client, s.prefix, s.network_policy, s.learner_subnet)

    # --- the hub and the proxy -----------------------------------------------------
    c.JupyterHub.bind_url = f"http://{s.bind_ip}:{s.port}"
    # every URL the hub makes for a browser (redirects, OAuth, the 127.0.0.1 redirect in
    # hub/app.py) starts here, in both modes
    c.JupyterHub.public_url = s.public_url + "/"
    if s.subdomains:
        # learners' servers (and the grader) on their own origins: <name>.<host>
        c.JupyterHub.subdomain_host = s.public_url
    # else the path-based mode: <public URL>/user/<name>/, one origin for all (see
    # StudioSettings.subdomains for what that gives away)
    if urlparse(s.public_url).scheme == "https":
        # Behind the TLS front every cookie is Secure: JupyterHub marks its login cookies
        # so itself, these add its _xsrf cookie and the learner servers' one
        c.JupyterHub.tornado_settings = {"cookie_options": {"secure": True}}
        c.StudioSpawner.secure_cookies = True
    c.JupyterHub.hub_ip = gateway  # learners reach the hub here, and nothing else on the host
    c.JupyterHub.hub_port = s.hub_port
    c.JupyterHub.hub_connect_ip = gateway
    c.JupyterHub.db_url = s.hub_db_url
    c.JupyterHub.cookie_secret_file = str(Path(s.data_dir) / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(Path(s.data_dir) / "jupyterhub.pid")
    # The proxy is its own process: learners stay reachable while the hub restarts,
    # and a hub restart leaves their servers running.
    c.ConfigurableHTTPProxy.should_start = False
    c.ConfigurableHTTPProxy.api_url = s.proxy_api_url
    c.ConfigurableHTTPProxy.auth_token = s.proxy_auth_token
    c.JupyterHub.cleanup_servers = False
    c.JupyterHub.cleanup_proxy = False

    # --- learner containers ------------------------------------------------------------
    c.JupyterHub.spawner_class = "hub.spawner.StudioSpawner"
    c.StudioSpawner.image = s.learner_image
    c.StudioSpawner.prefix = s.prefix
    c.StudioSpawner.network_name = network
    c.StudioSpawner.mem_limit = s.mem_limit
    c.StudioSpawner.cpu_limit = s.cpu_limit
    c.StudioSpawner.pids_limit = s.pids_limit
    c.StudioSpawner.log_config = s.log_config
    c.StudioSpawner.http_timeout = 60
    c.StudioSpawner.start_timeout = 120
    c.StudioSpawner.default_url = "/lab"
    c.StudioSpawner.home_quota = s.home_quota_bytes
    c.StudioSpawner.homes_dir = s.homes_dir
    grader_url = f"http://{gateway}:{s.grader_port}"
    c.Spawner.environment = {
        "STUDIO_COURSE_NETWORK_POLICY": s.network_policy,
        # the JupyterLab extension calls the grader here, with the server's own token
        "STUDIO_GRADER_URL": f"{grader_url}/services/grader/",
        # idle kernels inside the learner's server (images/learner/jupyter_server_config.py)
        "STUDIO_KERNEL_CULL_TIMEOUT": str(s.kernel_cull_timeout),
        "STUDIO_KERNEL_CULL_INTERVAL": str(s.kernel_cull_interval),
        "STUDIO_KERNEL_CULL_CONNECTED": "1" if s.kernel_cull_connected else "0",
    }

    # --- who logs in -----------------------------------------------------------------
    if s.login == "site":
        configure_site_login(c, s, hub_url=f"http://{gateway}:{s.hub_port}")
    else:
        configure_password_login(c, s)

    # --- services --------------------------------------------------------------------
    services = [{"name": ADMIN_SERVICE, "api_token": s.admin_token}, grader_service(s, grader_url)]
    roles = [
        # Learners call the grader with their own tokens and with their JupyterLab
        # server's token; a token never gets more than its owner has.
        {"name": "user", "scopes": ["self", "access:services!service=grader"]},
        {"name": "server", "scopes": ["users:activity!user", "access:servers!server",
                                     "access:services!service=grader"]},
        {"name": "studio-admin", "scopes": ["admin:users", "admin:servers",
                                                  "admin:groups", "tokens", "proxy",
                                                  "read:hub", "shutdown",
                                                  "list:services", "read:services",
                                                  "access:services!service=grader"],
              "services": [ADMIN_SERVICE]},
    ]
    if s.idle_timeout > 0:
        services.append({
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                        f"--timeout={s.idle_timeout}"],
        })
        roles.append({
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        })
    if s.tls_ask_port:
        # Caddy's on-demand certificates ask here first (hub/tls_ask.py); the answer tells
        # whether a user exists, so it listens on loopback and has no proxy route
        # (without subdomains, Caddy serves the public host alone and asks for nothing
        # else; the service then says yes to that host only)
        services.append({
            "name": TLS_ASK_SERVICE,
            "command": [sys.executable, "-m", "hub.tls_ask", f"--port={s.tls_ask_port}",
                        f"--host={urlparse(s.public_url).hostname}",
                        *(["--service=grader"] if s.subdomains else ["--no-subdomains"])],
        })
        roles.append({"name": TLS_ASK_SERVICE, "scopes": ["read:users:name"],
                      "services": [TLS_ASK_SERVICE]})
    if s.metrics_token:
        # a Prometheus server reads /hub/metrics with this token, and nothing else
        services.append({"name": METRICS_SERVICE, "api_token": s.metrics_token})
        roles.append({"name": "metrics", "scopes": ["read:metrics"],
                      "services": [METRICS_SERVICE]})
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles
    if s.log_format == "json":
        c.JupyterHub.logging_config = json_logging_config()
    return s


def load_config_d(c, s: StudioSettings) -> list[Path]:
    """Run <config.d>/hub/*.py in sorted order with ``c``, as Zero to JupyterHub runs
    jupyterhub_config.d: after Learning Studio's own configuration, so they see it and
    their values win."""
    folder = part_folder("hub", s.config_d)
    try:
        files = config_files(folder)
    except ConfigFileError as e:
        raise StudioConfigError(f"{e} (STUDIO_CONFIG_D)") from None
    namespace = {"c": c, "get_config": lambda: c}
    for path in files:
        print(f"Learning Studio: loading config file {path}", file=sys.stderr)
        before = repr(c.StudioSettings)
        try:
            run_config_file(path, namespace)
        except ConfigFileError as e:
            raise StudioConfigError(str(e)) from None
        if repr(c.StudioSettings) != before:
            # the hub has read them already: they would change nothing, silently
            raise StudioConfigError(
                f"config file {path} sets c.StudioSettings, which the hub reads before "
                "config.d: set those through their STUDIO_* variables in data/studio.env "
                "(docs/operator-guide.md), and in config.d the JupyterHub and spawner "
                "settings themselves (c.StudioSpawner.mem_limit, c.JupyterHub...).")
    return files


def json_logging_config() -> dict:
    """traitlets' console handler with one JSON object per line (studio_contracts.logs)."""
    return {
        "formatters": {"json": {"()": "studio_contracts.logs.JsonFormatter"}},
        "handlers": {"console": {"formatter": "json"}},
    }
