"""Browser sign-in through the hub's OAuth, for instructors opening API URLs (a CSV export,
a feedback page) in a browser. Scripts and the JupyterLab panel send tokens instead."""

from __future__ import annotations

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web


class OAuthCallbackHandler(HubOAuthCallbackHandler):
    @property
    def hub_auth(self):
        return self.settings["hub_auth"]


class LoginHandler(HubOAuthenticated, web.RequestHandler):
    """GET login?next=<path>: sign in at the hub (if needed), then go to next."""

    @property
    def hub_auth(self):
        return self.settings["hub_auth"]

    @web.authenticated
    def get(self):
        prefix = self.settings["service_prefix"]
        target = self.get_argument("next", prefix + "api/me")
        # only our own pages: an open redirect would let a link send people anywhere
        if not target.startswith(prefix) or "//" in target or "\\" in target:
            target = prefix + "api/me"
        self.redirect(target)


class RootHandler(web.RequestHandler):
    """The hub's Services menu links here: sign in and show who I am and my courses."""

    def get(self):
        prefix = self.settings["service_prefix"]
        self.redirect(f"{prefix}login?next={prefix}api/me")
