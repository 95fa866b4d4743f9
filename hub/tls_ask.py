"""The TLS front's "ask" endpoint: may Caddy get a certificate for this name?

Caddy gets certificates on demand (docker-compose.tls.yml): the first time a browser
asks for ``alan.<host>``, Caddy asks here first, and gets one only on a 200. Without
this, anyone could make the server request certificates for made-up names until the
certificate authority's rate limits lock the domain out. The answer is yes for the
public host, the subdomain of an existing hub user (``<name>.<host>``, JupyterHub's
``subdomain_host`` naming) and that of a hub service with a URL (``grader--service.<host>``).
Without subdomains (STUDIO_SUBDOMAINS=0, ``--no-subdomains``) the TLS front serves the
public host alone, and the answer is yes for that host only.

It tells whether a user name exists, so it listens on loopback only, beside Caddy, and is
never routed through the proxy. A hub-managed service (hub/setup.py) with a token that
reads user names and nothing else.

Run as ``python -m hub.tls_ask --port 8084 --host learn.example.org --service grader``.
"""

from __future__ import annotations

import argparse
import logging
import os
from urllib.parse import quote

from jupyterhub.utils import subdomain_hook_idna
from tornado import httpclient, ioloop, web

log = logging.getLogger("hub.tls_ask")


class CertificateQuestion(web.RequestHandler):
    """GET /?domain=<name>: 200 if a certificate for <name> may be obtained, else 404."""

    def initialize(self, host: str, services: list[str], api_url: str, token: str,
                   subdomains: bool = True) -> None:
        self.host = host.lower().rstrip(".")
        self.services = services
        self.subdomains = subdomains
        self.api_url = api_url.rstrip("/")
        self.token = token

    async def get(self) -> None:
        domain = self.get_query_argument("domain", "").lower().rstrip(".")
        allowed = await self.allowed(domain)
        log.info("certificate for %r: %s", domain, "yes" if allowed else "no")
        self.set_status(200 if allowed else 404)
        self.finish("yes\n" if allowed else "no\n")

    async def allowed(self, domain: str) -> bool:
        if domain == self.host:
            return True
        if not self.subdomains:
            return False  # learners' servers are paths of the public host
        label, dot, rest = domain.partition(".")
        if not dot or rest != self.host or not label:
            return False
        if any(subdomain_hook_idna(s, self.host, "service") == domain for s in self.services):
            return True
        name = label
        if label.startswith("xn--"):
            try:
                name = label.encode("ascii").decode("idna")
            except UnicodeError:
                return False
        if subdomain_hook_idna(name, self.host, "user") != domain:
            return False
        return await self.user_exists(name)

    async def user_exists(self, name: str) -> bool:
        client = httpclient.AsyncHTTPClient()
        url = f"{self.api_url}/users/{quote(name, safe='')}"
        try:
            await client.fetch(url, headers={"Authorization": f"token {self.token}"},
                               request_timeout=5)
        except httpclient.HTTPClientError as e:
            if e.code != 404:
                log.warning("the hub answered %s for user %r", e.code, name)
            return False
        except OSError as e:
            log.warning("cannot reach the hub's API: %s", e)
            return False
        return True


def make_app(host: str, services: list[str], api_url: str, token: str,
             subdomains: bool = True) -> web.Application:
    return web.Application([(r"/", CertificateQuestion, {
        "host": host, "services": services, "api_url": api_url, "token": token,
        "subdomains": subdomains})])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", required=True, help="the public host name")
    parser.add_argument("--service", action="append", default=[],
                        help="a hub service with its own subdomain (repeatable)")
    parser.add_argument("--no-subdomains", dest="subdomains", action="store_false",
                        help="the path-based mode: yes for the public host only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[tls-ask %(levelname)s] %(message)s")
    app = make_app(args.host, args.service, os.environ["JUPYTERHUB_API_URL"],
                   os.environ["JUPYTERHUB_API_TOKEN"], subdomains=args.subdomains)
    app.listen(args.port, address="127.0.0.1")
    log.info("answering Caddy's certificate questions on 127.0.0.1:%s", args.port)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
