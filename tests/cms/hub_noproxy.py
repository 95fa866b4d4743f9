"""A JupyterHub proxy that keeps routes in memory: the SSO test talks to the hub's own port.

The test only logs in (no learner server is spawned), so no configurable-http-proxy is
needed; this stands in for the proxy, not for anything under test.
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
