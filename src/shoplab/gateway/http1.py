"""A keep-alive HTTP/1.1 client for the gateway's calls, on an asyncio protocol and httptools.

The gateway forwards one small request and reads one small answer, hundreds of times a
second, to services it knows. aiohttp's client (ADR 0018) does that in a dozen Python
layers: a request object, a writer, a stream reader, a response object, timers. Here one
exchange is one write of bytes built in one piece, one parser fed from ``data_received``
(httptools, uvicorn's own) and one future. That is all it does:

- one exchange at a time per connection; a connection whose answer is complete and that
  the service keeps alive goes back to its pool (``http1_pool``), newest first;
- an idle connection is never reused after ``idle_seconds``, chosen shorter than the
  services' keep-alive, so a request is not written on a connection the service is closing;
- a connection that breaks, or whose exchange is cancelled (the caller's deadline), is
  closed, never returned;
- errors say whether the request left: ``NotSent`` (refused, or not connected in time:
  safe to send elsewhere) or ``ExchangeBroken`` (sent, and then the connection failed or
  the answer could not be read: a POST may have taken effect). The policy retries only
  reads, and only what was not sent.

No redirects, no cookies, no compression, no proxies, no TLS: the services are plain HTTP.
"""

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import httptools

from shoplab.platform.resilience import ExchangeBroken

BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "DELETE"})
"""Methods sent without ``Content-Length: 0`` when they have no body."""


class NotSent(ConnectionError):
    """No connection was made: the request never left."""


class ConnectTimeout(NotSent, TimeoutError):
    """No connection was made in time: the request never left."""


@dataclass(frozen=True)
class Answer:
    """A service's answer, read whole."""

    status_code: int
    headers: Mapping[str, str]
    """Lower-case names; a header sent several times is one value, joined by ``, ``."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection(asyncio.Protocol):
    """One connection to one instance, one exchange at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.idle_since = 0.0
        self.reusable = False
        self._answer: asyncio.Future[Answer] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._head_only = False
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def exchange(self, request: bytes, *, head_only: bool) -> "asyncio.Future[Answer]":
        """Send ``request`` and return its answer's future; ``head_only`` for a HEAD's."""
        assert self.transport is not None
        assert self._answer is None
        self.reusable = False
        self._answer = answer = asyncio.get_running_loop().create_future()
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self._headers, self._body = {}, []
        self.transport.write(request)
        return answer

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._parser is None:
            self._fail(ExchangeBroken("data without a request"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ExchangeBroken(f"unreadable answer: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self.transport = None
        self._fail(ExchangeBroken("the connection closed before the answer was whole"))

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        known = self._headers.get(key)
        self._headers[key] = text if known is None else f"{known}, {text}"

    def on_headers_complete(self) -> None:
        if self._head_only:
            self._complete()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._head_only:
            self._complete()

    def _complete(self) -> None:
        parser, answer = self._parser, self._answer
        assert parser is not None
        self._parser = self._answer = None
        # A HEAD's answer ends with its head, where the parser would still expect a body:
        # that connection is not trusted with another exchange.
        self.reusable = parser.should_keep_alive() and not self._head_only
        if answer is not None and not answer.done():
            body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
            answer.set_result(Answer(parser.get_status_code(), self._headers, body))
        if not self.reusable:
            self.close()

    def _fail(self, error: Exception) -> None:
        answer, self._answer, self._parser = self._answer, None, None
        if answer is not None and not answer.done():
            answer.set_exception(error)
        self.close()


def request_bytes(
    method: str, target: str, host: str, headers: Mapping[str, str], content: bytes | None
) -> bytes:
    """The request as it goes on the wire: ``Host`` unless ``headers`` name one, and the
    body's length when there is a body or the method expects one."""
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    if not any(name.lower() == "host" for name in headers):
        lines.append(f"Host: {host}\r\n")
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    if content or method not in BODILESS_METHODS:
        lines.append(f"Content-Length: {len(content) if content else 0}\r\n")
    lines.append("\r\n")
    head = "".join(lines).encode("latin-1")
    return head + content if content else head
