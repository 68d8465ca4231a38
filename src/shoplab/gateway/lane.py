"""The gateway's lane: a forwarded request never meets the router.

Nearly every public request is forwarded as it is, and for those the router, the
``Request`` and the ``Response`` were most of the gateway's own work. The lane routes
them with the routing table alone and answers with ASGI messages (``Proxy``). Every
other request goes on to the app's router, which answers it as before: the gateway's
contract and docs, the composed order details, a path nobody serves (404) and a method
outside the standard ones (405), so their problems keep one source.

The route templates are the router's own (``PUBLIC_PATHS``), named here without a
search through its routes: every path under the public prefixes is theirs, but for
the gateway's own pages.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.gateway import routes
from shoplab.gateway.proxy import Proxy

API_TEMPLATE = "/api/{path:path}"
WELL_KNOWN_TEMPLATE = "/.well-known/{path:path}"
PUBLIC_PATHS = (API_TEMPLATE, WELL_KNOWN_TEMPLATE)
"""The routes of every public request: the routing table decides who answers. The
gateway's own paths (health, metrics) stay out of them, so a wrong method there is a 405."""
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
OWN_PATHS = frozenset({OPENAPI_URL, DOCS_URL})
"""The gateway's own pages under ``/api/``: routes of their own, before ``PUBLIC_PATHS``."""
PUBLIC_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
"""The methods of the public routes: any other is the router's 405."""
_PUBLIC_METHODS = frozenset(PUBLIC_METHODS)


class PublicLane:
    """The ``Lane`` of the gateway's app (see ``platform.http.lane``)."""

    def __init__(self, proxy: Proxy) -> None:
        self._proxy = proxy

    def template(self, path: str) -> str | None:
        if "\n" in path or path in OWN_PATHS:
            return None  # the router's own matching decides (its ``.`` stops at a newline)
        if path.startswith("/api/"):
            return API_TEMPLATE
        if path.startswith("/.well-known/"):
            return WELL_KNOWN_TEMPLATE
        return None

    def before(self, routes: ASGIApp) -> ASGIApp:
        return Forwarding(self._proxy, routes)


class Forwarding:
    """Forward what the routing table gives a service; hand the rest to ``routes``."""

    __slots__ = ("_proxy", "_routes")

    def __init__(self, proxy: Proxy, routes: ASGIApp) -> None:
        self._proxy = proxy
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        match = (
            routes.route(path, method)
            if method in _PUBLIC_METHODS and path not in OWN_PATHS
            else None
        )
        if match is None or match.target == routes.COMPOSED:
            await self._routes(scope, receive, send)
            return
        await self._proxy.forward(scope, receive, send, match.target)
