"""Hub-side pieces for the single sign-on test.

- InMemoryRoutesProxy: a proxy that keeps routes in memory, so the test talks to the
  hub's own port (it only logs in; no learner server is spawned). It stands in for
  configurable-http-proxy, not for anything under test.
- SiteLogoutHandler / StudioOAuthenticator: what docs/cms-operator.md asks the hub to use
  so that logging out of the hub ends the site session without a confirmation page: the
  hub passes the id_token it received as `id_token_hint` to the site's logout endpoint.
"""

from jupyterhub.proxy import Proxy
from oauthenticator.generic import GenericOAuthenticator
from oauthenticator.oauth2 import OAuthLogoutHandler
from tornado.httputil import url_concat


class InMemoryRoutesProxy(Proxy):
    should_start = False
    _routes: dict = {}

    async def add_route(self, routespec, target, data):
        self._routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec):
        self._routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self._routes)


class SiteLogoutHandler(OAuthLogoutHandler):
    """Send the id_token along, so the site logs the user out without asking."""

    async def get(self):
        self._id_token_hint = None
        user = self.current_user
        if user is not None:
            auth_state = await user.get_auth_state() or {}
            self._id_token_hint = auth_state.get("id_token")
        await super().get()

    async def render_logout_page(self):
        url = self.authenticator.logout_redirect_url
        if url and self._id_token_hint:
            self.redirect(url_concat(url, {"id_token_hint": self._id_token_hint}))
            return
        await super().render_logout_page()


class StudioOAuthenticator(GenericOAuthenticator):
    logout_handler = SiteLogoutHandler
