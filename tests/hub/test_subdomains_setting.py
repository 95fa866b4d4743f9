"""STUDIO_SUBDOMAINS (issue #12): learners' servers on <name>.<host> (the default) or, for
hosts without a wildcard DNS record, on paths of the public host. Parsing, what
hub/setup.py configures in each mode, the tls-ask service's answers without subdomains,
and `./studio up` refusing a value it does not know before anything starts. (The hub
really running in the path-based mode: test_path_mode_stack.py; the TLS front:
test_tls_front.py.)"""

from __future__ import annotations

import os
import subprocess

import pytest
from stack import ROOT, free_port
from tornado.httpclient import AsyncHTTPClient
from traitlets.config import Config

from hub import setup, tls_ask
from hub.settings import StudioConfigError, StudioSettings, parse_switch

GATEWAY = "10.213.0.1"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("STUDIO_SUBDOMAINS", "STUDIO_PUBLIC_URL", "STUDIO_PUBLIC_HOST", "STUDIO_PORT",
                "STUDIO_TLS_ASK_PORT", "STUDIO_LOGIN", "STUDIO_SITE_URL",
                "STUDIO_SITE_INTERNAL_URL", "STUDIO_GRADER_MEM_LIMIT", "STUDIO_CONFIG_D",
                "STUDIO_DEMO", "STUDIO_BIND_IP", "STUDIO_HUB_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_GRADER_WORK_ROOT", str(tmp_path / "work"))
    return monkeypatch


# ------------------------------------------------------------------------- parsing
def test_subdomains_are_on_by_default(clean_env):
    assert StudioSettings().subdomains is True


@pytest.mark.parametrize("value,expected", [
    ("1", True), ("true", True), ("on", True), ("yes", True), ("ON", True), (" True ", True),
    ("0", False), ("false", False), ("off", False), ("no", False), ("Off", False),
])
def test_on_and_off_values(clean_env, value, expected):
    clean_env.setenv("STUDIO_SUBDOMAINS", value)
    assert StudioSettings().subdomains is expected


@pytest.mark.parametrize("value", ["maybe", "2", "subdomains", "paths"])
def test_an_unknown_value_stops_the_hub_naming_the_setting(clean_env, value):
    clean_env.setenv("STUDIO_SUBDOMAINS", value)
    with pytest.raises(StudioConfigError) as e:
        StudioSettings()  # at construction, before the hub starts: not at first use
    assert str(e.value) == (
        f"STUDIO_SUBDOMAINS={value!r} is neither on nor off: use 1, true, on or yes to turn "
        "it on, or 0, false, off or no to turn it off")


def test_parse_switch_names_the_setting_it_is_given():
    with pytest.raises(StudioConfigError, match="^STUDIO_OTHER='x' is neither on nor off"):
        parse_switch("STUDIO_OTHER", "x")


# ------------------------------------------------------------- what setup.py configures
def configure(monkeypatch) -> tuple[Config, StudioSettings]:
    """hub/setup.py's own configuration, with the Docker engine's part answered here (the
    learner image exists, the learner network's gateway is GATEWAY)."""
    monkeypatch.setattr(setup, "docker_client", lambda: None)
    monkeypatch.setattr(setup, "check_learner_image", lambda client, image: None)
    monkeypatch.setattr(setup, "ensure_learner_network",
                        lambda client, prefix, policy, subnet: (f"{prefix}-learners", GATEWAY))
    c = Config()
    s = setup._configure(c, None)
    return c, s


def test_subdomains_on_learners_on_their_own_origins(clean_env):
    clean_env.setenv("STUDIO_PUBLIC_HOST", "learn.example.org")
    clean_env.setenv("STUDIO_PUBLIC_URL", "https://learn.example.org")
    clean_env.setenv("STUDIO_LOGIN", "site")
    clean_env.setenv("STUDIO_TLS_ASK_PORT", "8084")
    c, s = configure(clean_env)
    assert s.subdomains
    assert c.JupyterHub.subdomain_host == "https://learn.example.org"
    assert c.JupyterHub.public_url == "https://learn.example.org/"
    assert "hub_routespec" not in c.JupyterHub  # JupyterHub's `/`: every other host
    hub = f"http://{GATEWAY}:8081"
    assert c.ConfigurableHTTPProxy.extra_routes == {
        "learn.example.org/": "http://127.0.0.1:8010", "learn.example.org/hub/": hub,
        "learn.example.org/user/": hub, "learn.example.org/services/": hub}
    assert c.GenericOAuthenticator.oauth_callback_url == (
        "https://learn.example.org/hub/oauth_callback")
    ask = next(x for x in c.JupyterHub.services if x["name"] == "tls-ask")
    assert ask["command"][-2:] == ["--host=learn.example.org", "--service=grader"]


def test_subdomains_off_one_host_routed_by_path(clean_env):
    clean_env.setenv("STUDIO_SUBDOMAINS", "off")
    clean_env.setenv("STUDIO_PUBLIC_HOST", "learn.example.org")
    clean_env.setenv("STUDIO_PUBLIC_URL", "https://learn.example.org")
    clean_env.setenv("STUDIO_LOGIN", "site")
    clean_env.setenv("STUDIO_TLS_ASK_PORT", "8084")
    c, s = configure(clean_env)
    assert not s.subdomains
    assert "subdomain_host" not in c.JupyterHub  # learners at <public URL>/user/<name>/
    # redirects, OAuth and hub/app.py's redirect of 127.0.0.1 still use the public URL
    assert c.JupyterHub.public_url == "https://learn.example.org/"
    # routes without a host (the proxy runs without --host-routing): the site has `/`, so
    # the hub's own route is /hub/ and it keeps /user/ and /services/
    assert c.JupyterHub.hub_routespec == "/hub/"
    hub = f"http://{GATEWAY}:8081"
    assert c.ConfigurableHTTPProxy.extra_routes == {
        "/": "http://127.0.0.1:8010", "/user/": hub, "/services/": hub}
    # the single sign-on comes back to the same public host
    assert c.GenericOAuthenticator.oauth_callback_url == (
        "https://learn.example.org/hub/oauth_callback")
    assert c.GenericOAuthenticator.authorize_url == "https://learn.example.org/o/authorize/"
    ask = next(x for x in c.JupyterHub.services if x["name"] == "tls-ask")
    assert ask["command"][-2:] == ["--host=learn.example.org", "--no-subdomains"]
    assert "--service=grader" not in ask["command"]


def test_routes_and_hub_route_are_what_jupyterhub_accepts_in_each_mode(clean_env):
    # JupyterHub refuses extra routes with a host without subdomain_host, and without one
    # with it: load each mode's configuration into JupyterHub's own classes
    from jupyterhub.app import JupyterHub

    clean_env.setenv("STUDIO_LOGIN", "site")
    for value in ("1", "0"):
        clean_env.setenv("STUDIO_SUBDOMAINS", value)
        c, _ = configure(clean_env)
        app = JupyterHub(config=c)
        app.init_hub()
        proxy = app.proxy_class(app=app, hub=app.hub, parent=app, config=c)
        routes = proxy.extra_routes  # validated against the app's subdomain_host
        assert set(routes) == set(c.ConfigurableHTTPProxy.extra_routes)
        assert app.hub.routespec not in routes  # the hub and the site never fight over one
        if value == "0":
            assert app.hub.routespec == "/hub/" and not app.subdomain_host
        else:
            assert app.hub.routespec == "/" and app.subdomain_host


# ------------------------------------------------------- tls-ask without subdomains
async def test_tls_ask_without_subdomains_approves_the_public_host_only():
    port = free_port()
    # an API address where nothing listens: without subdomains no user is looked up
    app = tls_ask.make_app("learn.example.org", [], f"http://127.0.0.1:{free_port()}/hub/api",
                           "token", subdomains=False)
    server = app.listen(port, address="127.0.0.1")
    try:
        client = AsyncHTTPClient()

        async def answer(domain: str) -> int:
            r = await client.fetch(f"http://127.0.0.1:{port}/?domain={domain}",
                                   raise_error=False)
            return r.code

        assert await answer("learn.example.org") == 200
        assert await answer("LEARN.example.org.") == 200
        for name in ("alan.learn.example.org", "grader--service.learn.example.org",
                     "example.org", "learn.example.org.evil.test", ""):
            assert await answer(name) == 404, name
    finally:
        server.stop()


def test_tls_ask_takes_no_subdomains_on_its_command_line(monkeypatch):
    seen = {}
    monkeypatch.setattr(tls_ask, "make_app",
                        lambda host, services, api, token, subdomains: seen.update(
                            host=host, services=services, subdomains=subdomains)
                        or _NoServer())
    monkeypatch.setattr(tls_ask.ioloop.IOLoop, "current", lambda: _NoServer())
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:1/hub/api")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    tls_ask.main(["--port=1", "--host=learn.example.org", "--no-subdomains"])
    assert seen == {"host": "learn.example.org", "services": [], "subdomains": False}
    tls_ask.main(["--port=1", "--host=learn.example.org", "--service=grader"])
    assert seen == {"host": "learn.example.org", "services": ["grader"], "subdomains": True}


class _NoServer:
    def listen(self, *args, **kwargs):
        pass

    def start(self):
        pass


# ------------------------------------------------------------------- ./studio up
def up(tmp_path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("STUDIO_TLS", "STUDIO_ACME", "STUDIO_SUBDOMAINS"))
            and k not in ("STUDIO_DEMO", "STUDIO_PUBLIC_HOST", "STUDIO_BIND_IP")}
    full.update(STUDIO_ENV_FILE=str(tmp_path / "studio.env"),
                STUDIO_COMPOSE_PROJECT="lstsub-never-started", **env)
    return subprocess.run([str(ROOT / "studio"), "up"], env=full, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("env,says", [
    ({"STUDIO_SUBDOMAINS": "maybe"},
     "STUDIO_SUBDOMAINS=maybe is neither on nor off: use 1, true, on or yes (each learner's "
     "server on <name>.<host>, the default) or 0, false, off or no (the path-based mode"),
    # without subdomains the operator's certificate need not be a wildcard
    ({"STUDIO_SUBDOMAINS": "off", "STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_TLS": "own"},
     "(full chain, PEM; valid for learn.example.org) and its private key"),
    ({"STUDIO_PUBLIC_HOST": "learn.example.org", "STUDIO_TLS": "own"},
     "(full chain, PEM; a wildcard for learn.example.org and *.learn.example.org)"),
    ({"STUDIO_SUBDOMAINS": "0", "STUDIO_PUBLIC_HOST": "203.0.113.7"},
     "the TLS front gets certificates for a name (one DNS record for it is enough with "
     "STUDIO_SUBDOMAINS=0)"),
])
def test_up_refuses_what_it_cannot_serve_before_anything(tmp_path, env, says):
    out = up(tmp_path, **env)
    assert out.returncode == 1
    assert says in out.stderr, out.stderr
    assert not (tmp_path / "studio.env").exists()
    assert "==>" not in out.stderr
