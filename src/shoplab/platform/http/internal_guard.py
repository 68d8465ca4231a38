"""Closes a service's HTTP port to callers without an internal token.

Health probes stay open (the supervisor and the gateway need them); every
other path needs a valid internal token, which only the gateway and the other
services can mint. A request refused here gets the same 401 problem as a
missing customer token. An accepted one is served under the deadline its caller
sent (``shoplab-timeout-ms``), so the gRPC calls it makes in turn never outlive it,
and with the caller the token proved in its state (``VERIFIED_CALLER``), so that the
routes' ``Authenticator`` does not verify the same token again.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from shoplab.platform.auth import VERIFIED_CALLER, InvalidToken
from shoplab.platform.http.problems import problem_response
from shoplab.platform.internal_auth import ServiceCredentials
from shoplab.platform.resilience import deadline

OPEN_PREFIXES = ("/health/", "/metrics")


class ServiceGuard:
    def __init__(self, app: ASGIApp, credentials: ServiceCredentials) -> None:
        self._app = app
        self._credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PREFIXES):
            await self._app(scope, receive, send)
            return
        token = _bearer(scope)
        try:
            if token is None:
                raise InvalidToken
            caller = self._credentials.verify(token)
        except InvalidToken as refused:
            await problem_response(refused)(scope, receive, send)
            return
        scope.setdefault("state", {})[VERIFIED_CALLER] = caller
        with deadline.inherit_http(_headers(scope)):  # the gateway's remaining time
            await self._app(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None
