"""A lane beside the router: a plain ASGI path for the requests an app only passes on.

The router, its ``Request`` and ``Response`` objects and FastAPI's exception wrappers
cost tens of microseconds a request. Beside a query that is nothing; beside a request
the gateway only forwards, it is most of the gateway's own work. A ``Lane`` takes such
requests before the router sees them, answers them with ASGI messages of its own, and
hands every other request to the router unchanged.

It runs where the router would, inside the ``Edge`` and its gates: its answers are
secured, counted, traced and rate limited like any other. It also names the route
template of the paths it takes, as the router would name it, so the request metrics
and the server span need not search the router's routes for it.
"""

from typing import Protocol

from starlette.types import ASGIApp


class Lane(Protocol):
    def template(self, path: str) -> str | None:
        """The template the router would name for ``path``; ``None``: ask the router."""
        ...

    def before(self, routes: ASGIApp) -> ASGIApp:
        """The app that serves what the lane takes and hands the rest to ``routes``."""
        ...
