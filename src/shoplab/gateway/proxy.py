"""Forwarding one public request to the service that owns it, and its answer back.

Only the headers that carry meaning for the contract cross the gateway, in
either direction: what a service sends about itself (``server``, its own
diagnostics) stays inside, and what a client sends beyond the contract (cookies,
its own ``Authorization``) never reaches a service. ``Host`` is passed on so that
a redirect a service builds points at the public address, as in the monolith.
"""

from fastapi import Request, Response

from shoplab.gateway.edge_auth import EdgeAuthenticator
from shoplab.gateway.upstreams import Answer, Upstreams

REQUEST_HEADERS = ("content-type", "idempotency-key", "accept", "host")
_REQUEST_HEADERS = frozenset(name.encode() for name in REQUEST_HEADERS)
RESPONSE_HEADERS = ("content-type", "location", "www-authenticate", "retry-after", "allow")
_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}


class Proxy:
    def __init__(self, upstreams: Upstreams, auth: EdgeAuthenticator) -> None:
        self._upstreams = upstreams
        self._auth = auth

    async def forward(self, request: Request, service: str) -> Response:
        headers = forwarded_headers(request.scope["headers"])
        headers.update(await self._auth.internal_headers(request))
        answer = await self._upstreams.request(
            service,
            request.method,
            upstream_target(request),
            headers=headers,
            content=await request.body(),
        )
        return passed_back(answer)


def forwarded_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The contract's request headers, each as its first line gives it (an empty value
    still counts), in one pass over the raw lines."""
    found: dict[str, str] = {}
    for name, value in raw:
        if name in _REQUEST_HEADERS:
            found.setdefault(name.decode(), value.decode("latin-1"))
    return found


def passed_back(answer: Answer) -> Response:
    """A service's answer as the client gets it: status, body and the contract's headers."""
    headers = {name: value for name in RESPONSE_HEADERS if (value := answer.headers.get(name))}
    return Response(content=answer.body, status_code=answer.status_code, headers=headers)


def upstream_target(request: Request) -> str:
    """The path as the client encoded it, with its query string.

    Dot segments are re-encoded so that the HTTP client does not resolve them:
    the service must see the path the gateway routed, as the monolith would.
    """
    path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    if "/." in path:
        path = "/".join(_DOT_SEGMENTS.get(segment, segment) for segment in path.split("/"))
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path
