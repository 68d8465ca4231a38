"""A request body size limit, enforced while the body streams in.

``Content-Length`` is checked first; a chunked body is read and counted as it
arrives, and refused with 413 as soon as it passes the limit, so an oversize
upload is never held in memory. A body within the limit is handed on whole.

Before answering 413 the rest of an oversize body is read and dropped (up to
``DRAIN_BYTES``): most clients send the whole body before they read the answer,
and closing on them mid-upload turns a clear 413 into a connection reset.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_BYTES = 16 * 1024 * 1024


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _drain(receive)
            await self._refuse(send)
            return
        body = await self._read_within_limit(receive)
        if body is None:
            await _drain(receive)
            await self._refuse(send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_within_limit(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": "https://shoplab.local/problems/content-too-large",
                "title": "Content too large",
                "status": 413,
                "detail": f"The request body is larger than {self.max_bytes} bytes.",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> None:
    """Read and drop what is left of the body, up to ``DRAIN_BYTES``."""
    dropped = 0
    while dropped <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then defers to the real one."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
