"""Forwarding one public request to the service that owns it, and its answer back.

Only the headers that carry meaning for the contract cross the gateway, in
either direction: what a service sends about itself (``server``, its own
diagnostics) stays inside, and what a client sends beyond the contract (cookies,
its own ``Authorization``) never reaches a service. ``Host`` is passed on so that
a redirect a service builds points at the public address, as in the monolith.

The proxy speaks plain ASGI: a forwarded request is read from its scope and its
answer written as two messages, with no ``Request`` or ``Response`` made for it.
"""

from fastapi import Response
from starlette.types import Receive, Scope, Send

from shoplab.gateway.edge_auth import EdgeAuthenticator
from shoplab.gateway.http1 import Answer
from shoplab.gateway.upstreams import UpstreamFailure, Upstreams, upstream_answer

REQUEST_HEADERS = ("content-type", "idempotency-key", "accept", "host")
_REQUEST_HEADERS = frozenset(name.encode() for name in REQUEST_HEADERS)
RESPONSE_HEADERS = ("content-type", "location", "www-authenticate", "retry-after", "allow")
_RESPONSE_HEADERS = tuple((name, name.encode()) for name in RESPONSE_HEADERS)
_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}
_BODILESS = frozenset({204, 304})


class Proxy:
    def __init__(self, upstreams: Upstreams, auth: EdgeAuthenticator) -> None:
        self._upstreams = upstreams
        self._auth = auth

    async def forward(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        """Send the request on to ``service`` and its answer back; a service that does not
        answer is the 503 or 504 problem."""
        headers = forwarded_headers(scope["headers"])
        headers.update(await self._auth.internal_headers(scope))
        try:
            answer = await self._upstreams.request(
                service,
                scope["method"],
                upstream_target(scope),
                headers=headers,
                content=await body_of(receive),
            )
        except UpstreamFailure as error:
            await upstream_answer(error)(scope, receive, send)
            return
        await send(
            {"type": "http.response.start", "status": answer.status_code, "headers": head(answer)}
        )
        await send({"type": "http.response.body", "body": answer.body})


async def body_of(receive: Receive) -> bytes:
    """The request body, whole: the ``Edge`` has read it already, so it comes at once."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def forwarded_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The contract's request headers, each as its first line gives it (an empty value
    still counts), in one pass over the raw lines."""
    found: dict[str, str] = {}
    for name, value in raw:
        if name in _REQUEST_HEADERS:
            found.setdefault(name.decode(), value.decode("latin-1"))
    return found


def head(answer: Answer) -> list[tuple[bytes, bytes]]:
    """The header lines the client gets: the contract's, then the body's length (none for
    an answer that has no body by its status), as a ``Response`` would write them."""
    lines = [
        (raw, value.encode("latin-1"))
        for name, raw in _RESPONSE_HEADERS
        if (value := answer.headers.get(name))
    ]
    if answer.status_code >= 200 and answer.status_code not in _BODILESS:
        lines.append((b"content-length", str(len(answer.body)).encode()))
    return lines


def passed_back(answer: Answer) -> Response:
    """A service's answer as the client gets it: status, body and the contract's headers."""
    response = Response(content=answer.body, status_code=answer.status_code)
    response.raw_headers = head(answer)
    return response


def upstream_target(scope: Scope) -> str:
    """The path as the client encoded it, with its query string.

    Dot segments are re-encoded so that the HTTP client does not resolve them:
    the service must see the path the gateway routed, as the monolith would.
    """
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    if "/." in path:
        path = "/".join(_DOT_SEGMENTS.get(segment, segment) for segment in path.split("/"))
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path
