"""The ``Allow`` header of a 405: every method the path has, not one route's.

Starlette answers a wrong method with the methods of the first route whose path
matched, though several routes may share a path (``GET`` and ``POST`` on
``/api/orders``): a client would be told that ``POST`` is not allowed there. Each
method is asked of the routes as the router asks them (``matches``), so routes of
every kind count, included routers too.
"""

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> str | None:
    """``GET, POST``: the methods some route takes on this path, sorted.

    None when a route takes this very method (the 405 came from the endpoint, which
    knows its answer better) or when no route takes any method on this path.
    """
    if _taken(routes, scope):
        return None
    allowed = [method for method in METHODS if _taken(routes, {**scope, "method": method})]
    return ", ".join(allowed) or None


def _taken(routes: list[BaseRoute], scope: Scope) -> bool:
    return any(route.matches(scope)[0] is Match.FULL for route in routes)
