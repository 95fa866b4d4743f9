"""Hub-side pieces for the single sign-on test.

- InMemoryRoutesProxy: a proxy that keeps routes in memory, so the test talks to the
  hub's own port (it only logs in; no learner server is spawned). It stands in for
  configurable-http-proxy, not for anything under test.

The hub's own authenticator (hub/auth.py SiteAuthenticator) is what the test logs in with.
"""

from jupyterhub.proxy import Proxy


class InMemoryRoutesProxy(Proxy):
    should_start = False
    _routes: dict = {}

    async def add_route(self, routespec, target, data):
        self._routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec):
        self._routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self._routes)
