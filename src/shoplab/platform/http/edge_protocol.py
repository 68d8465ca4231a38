"""uvicorn's httptools protocol with what it lacks at the edge: a deadline and a ceiling
for request heads, and problem answers for what the parser refuses.

uvicorn (0.54, httptools mode) bounds neither how long a client may take to send a
request's head nor how large it may be: a client that connects and sends nothing,
or trickles a header a byte at a time (slowloris), holds its connection forever
(``timeout_keep_alive`` runs only between requests, and every byte received stops
it), and a head of 50 MB is parsed and held whole. Both happen before any ASGI code
runs, so only the protocol can stop them:

- the head deadline: a connection gets ``client_timeout_seconds`` from its opening,
  and each later request from its first byte, to complete its head; a late head is
  answered 408 and the connection closed (one that never sent a byte is closed);
- the head ceiling: a head still incomplete past ``max_header_bytes`` plus
  ``REQUEST_LINE_BYTES`` for the request line is answered 431 and closed. It bounds
  memory, counting what arrives in reads after the head began; the precise limit on
  a complete head's fields is the ``Edge``'s, in the ASGI layer;
- a request the parser refuses gets a 400 problem instead of uvicorn's plain text.

These answers are written here, not by the app, so they carry the security headers
themselves; what the client still sends is then read and dropped for ``LINGER_SECONDS``
before the connection closes, so that it reads the answer rather than a reset.
"""

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.problems import problem
from shoplab.platform.http.security_headers import SECURITY_HEADERS

REQUEST_LINE_BYTES = 8_192
"""The room a head has for its request line (method, target, version) besides its fields."""
LINGER_SECONDS = 2.0
"""How long a refused connection keeps reading (and dropping) what the client still sends.
Closing at once, with its data unread, makes the system reset the connection, and a
client still sending its head would see the reset, not the answer."""


class EdgeProtocol(HttpToolsProtocol):
    """Configured by subclassing (see ``edge_protocol``): uvicorn builds one per connection."""

    head_timeout_seconds: ClassVar[float] = EdgeSettings().client_timeout_seconds
    max_head_bytes: ClassVar[int] = EdgeSettings().max_header_bytes + REQUEST_LINE_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._reading_head = False
        self._head_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        head_was_open = self._reading_head
        super().data_received(data)
        if self._reading_head and head_was_open:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(431, f"The request head is larger than {self.max_head_bytes} bytes.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        if self._head_timer is None:
            self._start_head_clock()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._stop_head_clock()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "The request is not valid HTTP/1.1.")

    def _start_head_clock(self) -> None:
        self._stop_head_clock()
        self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_late)

    def _stop_head_clock(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._start_head_clock()  # still answering the previous request: judge the next later
        elif self._reading_head:
            seconds = f"{self.head_timeout_seconds:g}"
            self._refuse(408, f"The request head did not arrive within {seconds} seconds.")
        else:
            self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a problem on the raw connection, then close it after a linger."""
        if self.transport.is_closing() or self._refused:
            return
        self._refused = True
        self._stop_head_clock()
        answer = problem(status, detail)
        headers = [
            *self.server_state.default_headers,
            *answer.raw_headers,
            *((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS),
            (b"connection", b"close"),
        ]
        lines = [STATUS_LINE[status], *(name + b": " + value + b"\r\n" for name, value in headers)]
        self.transport.write(b"".join(lines) + b"\r\n" + answer.body)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def edge_protocol(settings: EdgeSettings) -> type[EdgeProtocol]:
    """The protocol class for uvicorn's ``http`` option, with ``settings``' limits."""

    class ConfiguredEdgeProtocol(EdgeProtocol):
        head_timeout_seconds = settings.client_timeout_seconds
        max_head_bytes = settings.max_header_bytes + REQUEST_LINE_BYTES

    return ConfiguredEdgeProtocol
