"""The TLS front's "ask" endpoint (hub/tls_ask.py), run by a real hub as a managed
service: Caddy gets an on-demand certificate only for the public host, an existing user's
<name>.<host> and the grader's subdomain. It tells whether a user exists, so it listens
on loopback only and the proxy has no route to it."""

import subprocess

import pytest
import requests
from stack import free_port, running_stack, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(180)]
HOST = "learn.localhost"


@pytest.fixture(scope="module")
def ask_stack(tmp_path_factory):
    port = free_port()
    with running_stack(tmp_path_factory.mktemp("tlsask"), STUDIO_PUBLIC_HOST=HOST,
                       STUDIO_TLS_ASK_PORT=str(port)) as s:
        s.ask_port = port
        yield s


def may_have_certificate(stack, domain: str) -> bool:
    r = requests.get(f"http://127.0.0.1:{stack.ask_port}/", params={"domain": domain}, timeout=10)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def test_yes_only_for_the_host_existing_users_and_the_grader(ask_stack):
    stack = ask_stack
    wait_for(lambda: stack._port_open(stack.ask_port), 30, "the tls-ask service")
    assert stack.admin("GET", "users/alan").status_code == 200
    assert may_have_certificate(stack, HOST)
    assert may_have_certificate(stack, f"alan.{HOST}")
    assert may_have_certificate(stack, f"ALAN.{HOST}.")  # names are case-insensitive
    assert may_have_certificate(stack, f"grader--service.{HOST}")
    for name in (f"nobody.{HOST}", f"x.alan.{HOST}", f"tls-ask--service.{HOST}",
                 "example.org", f"{HOST}.example.org", f"alan.{HOST}.example.org", ""):
        assert not may_have_certificate(stack, name), name
    # a user added later gets one from then on
    assert not may_have_certificate(stack, f"newcomer.{HOST}")
    assert stack.admin("POST", "users/newcomer").status_code == 201
    assert may_have_certificate(stack, f"newcomer.{HOST}")


def test_it_listens_on_loopback_only_and_has_no_proxy_route(ask_stack):
    stack = ask_stack
    wait_for(lambda: stack._port_open(stack.ask_port), 30, "the tls-ask service")
    ss = subprocess.run(["ss", "-ltnH", f"sport = :{stack.ask_port}"], capture_output=True,
                        text=True).stdout.splitlines()
    local = [line.split()[3] for line in ss if line.strip()]
    assert local and all(a.startswith("127.0.0.1:") for a in local), ss
    service = stack.admin("GET", "services/tls-ask").json()
    assert service["pid"] > 0 and not service["url"] and not service.get("prefix"), service
    routes = requests.get(f"http://127.0.0.1:{stack.api_port}/api/routes", timeout=10,
                          headers={"Authorization": f"token {stack.proxy_token}"}).json()
    assert not [r for r in routes if "tls-ask" in r], routes
