"""A FastAPI app with middleware around its whole stack, Starlette's error middleware included.

Starlette puts its ``ServerErrorMiddleware`` outside every middleware added to an app:
the 500 answer to an unexpected error is sent from there, past them all. What must be
on every answer (security headers, CORS) goes around it instead, as ``edge`` here.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp


class EdgeApp(FastAPI):
    def __init__(self, *, edge: Sequence[Middleware], **options: Any) -> None:
        """``edge``: the outermost middleware, first outermost; ``options`` are FastAPI's."""
        super().__init__(**options)
        self.edge_middleware = list(edge)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, kwargs in reversed(self.edge_middleware):
            app = cls(app, *args, **kwargs)
        return app
