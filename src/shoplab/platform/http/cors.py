"""Cross-origin calls from browsers: closed unless origins are configured.

With no origins (the default) no CORS middleware runs at all: no answer carries an
``Access-Control-*`` header, so a browser lets no other site's page read the API, and
a preflight is answered like any other ``OPTIONS`` (405). With origins set, those
origins only, with the methods and request headers the API uses, exposing the answer
headers a client needs to read (where a new order is, when to try again, its quota).
No credentials mode: callers authenticate with a bearer token, never a cookie.
"""

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from shoplab.platform.http.problems import problem

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
EXPOSED_HEADERS = ("Location", "Retry-After", "RateLimit", "RateLimit-Policy")
PREFLIGHT_MAX_AGE_SECONDS = 600


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, refusing a preflight with a problem instead of plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code != 400:
            return answer
        kept = {
            name: value
            for name, value in answer.headers.items()
            if name.startswith("access-control-") or name == "vary"
        }
        detail = "The preflight asks for an origin, a method or a header the API does not allow."
        return problem(400, detail, headers=kept)


def cors_middleware(origins: Sequence[str]) -> list[Middleware]:
    """The CORS middleware for ``origins``; none when there are none."""
    if not origins:
        return []
    return [
        Middleware(
            ProblemCORSMiddleware,
            allow_origins=list(origins),
            allow_methods=list(ALLOWED_METHODS),
            allow_headers=list(ALLOWED_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )
    ]
