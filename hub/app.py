"""The hub process: JupyterHub plus what Learning Studio adds to its web app.

Run as ``python -m hub -f jupyterhub_config.py`` (the compose stack and the tests do).
"""

from __future__ import annotations

from urllib.parse import urlparse

from jupyterhub.app import JupyterHub
from tornado import web


class CanonicalHostRedirect(web.RequestHandler):
    """Send http://127.0.0.1:8000/... to the public host name, same path.

    A browser that logged in on the bare address would carry its cookies on another
    origin than the public URL's, which every redirect and OAuth callback uses (and,
    with subdomains, learners' servers live on <name>.<public host>). One origin for the
    hub keeps login working, in both modes.
    """

    def initialize(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")

    def get(self, path: str) -> None:
        query = f"?{self.request.query}" if self.request.query else ""
        self.redirect(f"{self.public_url}/{path}{query}", permanent=False)

    head = get


class StudioHub(JupyterHub):
    """JupyterHub with the loopback address redirected to the public host name."""

    name = "jupyterhub"  # same config file name and log prefix as the stock hub

    def init_tornado_application(self):
        super().init_tornado_application()
        # the public URL's scheme and host (hub/setup.py sets public_url in both modes);
        # the path a browser asked for is kept, base_url included
        public = urlparse(self.public_url or self.subdomain_host)
        public_url = f"{public.scheme}://{public.netloc}" if public.netloc else ""
        if public_url and public.hostname not in ("127.0.0.1", "::1"):
            self.tornado_application.add_handlers(
                r"(127\.0\.0\.1|\[::1\])(:\d+)?$",
                # REST clients (tokens, not cookies) keep working on the bare address,
                # and so does a Prometheus reading /hub/metrics with its token.
                [(r"/(?!hub/api/|hub/metrics$)(.*)", CanonicalHostRedirect,
                  {"public_url": public_url})],
            )


main = StudioHub.launch_instance
