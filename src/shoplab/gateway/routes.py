"""The routing table: which service owns each public path.

The reads of ``READ_MODELS`` come first; then ``ROUTES``, read top to bottom, first
match wins. In a pattern, ``*`` is exactly one path segment and ``**`` is the rest
of the path (possibly empty). A path that no pattern matches is answered 404 by
the gateway, as the monolith answers a path it has no route for.
"""

import re
from dataclasses import dataclass

IDENTITY = "identity"
CATALOG = "catalog"
ORDERS = "orders"
INVENTORY = "inventory"
PAYMENTS = "payments"
NOTIFICATIONS = "notifications"
HISTORY = "history"
COMPOSED = "gateway"
"""Answered by the gateway itself, from several services."""

ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/auth/**", IDENTITY),
    ("/.well-known/jwks.json", IDENTITY),
    ("/api/products", CATALOG),
    ("/api/products/**", CATALOG),
    ("/api/orders/*/details", COMPOSED),
    ("/api/orders", ORDERS),
    ("/api/orders/**", ORDERS),
    ("/api/admin/inventory/**", INVENTORY),
    ("/api/admin/payments", PAYMENTS),
    ("/api/admin/notifications", NOTIFICATIONS),
    ("/api/admin/sagas/**", ORDERS),
    ("/api/admin/history/**", HISTORY),
)

READ_MODELS: tuple[tuple[str, str, str], ...] = (("GET", "/api/orders", HISTORY),)
"""Reads served by a read model instead of the path's owner (CQRS): ``(method, path, service)``,
exact paths, looked up before ``ROUTES``. ``GET /api/orders`` is the order history's;
placing an order (``POST`` on the same path) stays with orders."""

SERVICES = (frozenset(target for _, target in ROUTES) | {target for *_, target in READ_MODELS}) - {
    COMPOSED
}
"""Every service the gateway routes to: each needs a URL in ``service_urls``."""


@dataclass(frozen=True)
class Match:
    target: str
    """A service name, or ``COMPOSED``."""
    wildcards: tuple[str, ...]
    """What each ``*`` or ``**`` matched, in order (the order id of the details)."""


def _compile(pattern: str) -> re.Pattern[str]:
    parts = (
        "(.*)" if part == "**" else "([^/]+)" if part == "*" else re.escape(part)
        for part in pattern.split("/")
    )
    return re.compile("/".join(parts))


_COMPILED = tuple((_compile(pattern), target) for pattern, target in ROUTES)


def route(path: str, method: str | None = None) -> Match | None:
    """The owner of a decoded request path (and method, when given: reads of a read model
    go to it), or ``None`` when nobody serves it."""
    for read_method, read_path, target in READ_MODELS:
        if method == read_method and path == read_path:
            return Match(target, ())
    for pattern, target in _COMPILED:
        found = pattern.fullmatch(path)
        if found is not None:
            return Match(target, found.groups())
    return None
