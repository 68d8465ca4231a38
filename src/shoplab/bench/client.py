"""The benchmark's HTTP client: cheap enough that its own CPU stays small beside the system's.

A general client (aiohttp, httpx) spends about half a millisecond of CPU per request on
things a benchmark does not need: cookie jars, redirects, header objects, streaming bodies.
At thousands of placements a second that would be a large part of the machine, taken from
the system under test. This client does the least HTTP/1.1 allows:

- a request is prepared as bytes once (``prepare``): method line, ``Host``, the caller's
  headers, ``Content-Length`` and the body; sending it is one ``write``;
- a connection is kept alive and carries one request at a time (no pipelining), so an
  answer is whatever arrives next;
- of the answer only the status line, ``Content-Length``, ``Retry-After`` and ``Connection``
  are read, and the body is kept as bytes for the caller to decode if it cares.

It speaks to servers that send ``Content-Length`` (uvicorn and Starlette always do for the
JSON answers the benchmark reads); a chunked answer is refused as a ``ProtocolError``.
"""

import asyncio
from dataclasses import dataclass
from typing import cast

HEADER_END = b"\r\n\r\n"
MAX_HEADER_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The server answered something this client does not read (or closed mid-answer)."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, reduced to what a benchmark reads."""

    status: int
    body: bytes
    retry_after: float | None = None
    """``Retry-After`` in seconds, when the server sent it (as seconds)."""
    closing: bool = False
    """The server will close the connection after this answer."""


def prepare(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One request as it goes on the wire."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Exchange(asyncio.Protocol):
    """Collects bytes until one whole answer is in, then resolves the waiting future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Answer] | None = None
        self._head: tuple[int, int, float | None, bool] | None = None
        """Status, body length, Retry-After and closing, once the head is parsed."""
        self._head_size = 0
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ProtocolError("the server closed the connection"))

    def expect(self, waiter: asyncio.Future[Answer]) -> None:
        self._buffer.clear()
        self._head = None
        self._waiter = waiter

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._head is None:
            end = self._buffer.find(HEADER_END)
            if end < 0:
                if len(self._buffer) > MAX_HEADER_BYTES:
                    self._fail(ProtocolError("an answer's head is too long"))
                return
            try:
                self._head = _parse_head(bytes(self._buffer[:end]))
            except ProtocolError as error:
                self._fail(error)
                return
            self._head_size = end + len(HEADER_END)
        status, length, retry_after, closing = self._head
        if len(self._buffer) - self._head_size < length:
            return
        body = bytes(self._buffer[self._head_size : self._head_size + length])
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(Answer(status, body, retry_after, closing))

    def _fail(self, error: ProtocolError) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()


def _parse_head(head: bytes) -> tuple[int, int, float | None, bool]:
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.") or len(lines[0]) < 12:
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:40]!r}")
    status = int(lines[0][9:12])
    length: int | None = None
    retry_after: float | None = None
    closing = lines[0].startswith(b"HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        match name.strip().lower():
            case b"content-length":
                length = int(value)
            case b"retry-after":
                try:
                    retry_after = float(value)
                except ValueError:
                    retry_after = 0.0  # an HTTP date: present, read as "now"
            case b"connection":
                closing = value.strip().lower() == b"close"
            case b"transfer-encoding":
                raise ProtocolError("chunked answers are not read by this client")
    if length is None:
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        else:
            raise ProtocolError("an answer without Content-Length")
    return status, length, retry_after, closing


class Connection:
    """One kept-alive connection; ``send`` carries one prepared request at a time."""

    def __init__(self, transport: asyncio.Transport, protocol: _Exchange) -> None:
        self._transport = transport
        self._protocol = protocol

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(_Exchange, host, port)
        return cls(transport, protocol)

    @property
    def usable(self) -> bool:
        return not self._protocol.lost and not self._transport.is_closing()

    async def send(self, request: bytes) -> Answer:
        """Write the request and wait for its whole answer."""
        if not self.usable:
            raise ProtocolError("the connection is closed")
        waiter: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._protocol.expect(waiter)
        self._transport.write(request)
        answer = await waiter
        if answer.closing:
            self._transport.close()
        return answer

    def close(self) -> None:
        self._transport.close()


class Client:
    """Connections to one server, opened on demand and reused; at most ``limit`` open."""

    def __init__(self, host: str, port: int, limit: int = 1024) -> None:
        self.host, self.port = host, port
        self.authority = f"{host}:{port}"
        self._idle: list[Connection] = []
        self._room = asyncio.Semaphore(limit)
        self._all: set[Connection] = set()

    async def send(self, request: bytes) -> Answer:
        """Send on an idle connection (or a new one); a broken one raises ``ProtocolError``
        or ``OSError``, and is dropped."""
        async with self._room:
            connection = self._take() or await self._open()
            try:
                answer = await connection.send(request)
            except BaseException:
                connection.close()
                self._all.discard(connection)
                raise
            if connection.usable:
                self._idle.append(connection)
            else:
                self._all.discard(connection)
            return answer

    def _take(self) -> Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
            self._all.discard(connection)
        return None

    async def _open(self) -> Connection:
        connection = await Connection.open(self.host, self.port)
        self._all.add(connection)
        return connection

    def close(self) -> None:
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._idle.clear()
