"""What a client may send: the size of its header fields and of its body, and how slowly.

- The header fields together (``name: value`` and its line end, each) weigh at most
  ``max_header_bytes`` on the wire, else 431 before anything else runs. httptools has no
  limit of its own: the connection-level ceiling in ``edge_protocol`` bounds what a head
  may hold in memory while it arrives, and this gives the precise limit and the answer.
- The body is at most ``max_body_bytes``: ``Content-Length`` is checked first; a chunked
  body is counted as it arrives and refused with 413 as soon as it passes the limit, so
  an oversize upload is never held in memory. Before answering 413 the rest is read and
  dropped (up to ``DRAIN_BYTES``): most clients send the whole body before they read the
  answer, and closing on them mid-upload turns a clear 413 into a connection reset.
- The body arrives within ``client_timeout_seconds`` of the moment the edge starts reading
  it, else 408 (a slow client ties up a connection for as long as it likes: a "slow POST").
  The server's own work before that (the token, the rate limits) is not the client's.

The ``Edge`` applies them; these are the pieces.
"""

import json

from starlette.responses import Response
from starlette.types import Message, Receive, Send

from shoplab.platform.http.problems import problem

DRAIN_BYTES = 16 * 1024 * 1024
FIELD_OVERHEAD = len(b": \r\n")


def header_bytes(headers: list[tuple[bytes, bytes]]) -> int:
    return sum(len(name) + len(value) + FIELD_OVERHEAD for name, value in headers)


def headers_too_large(max_bytes: int) -> Response:
    return problem(
        431,
        f"The request's header fields are larger than {max_bytes} bytes together.",
        headers={"Connection": "close"},
    )


def too_slow(seconds: float) -> Response:
    return problem(
        408,
        f"The request body did not arrive within {seconds:g} seconds.",
        headers={"Connection": "close"},
    )


async def read_within(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, or None (with the rest drained) once it passes ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            if message.get("more_body", False):
                await drain(receive)
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def drain(receive: Receive) -> None:
    """Read and drop what is left of the body, up to ``DRAIN_BYTES``."""
    dropped = 0
    while dropped <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


async def refuse_too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps(
        {
            "type": "https://shoplab.local/problems/content-too-large",
            "title": "Content too large",
            "status": 413,
            "detail": f"The request body is larger than {max_bytes} bytes.",
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then defers to the real one."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
