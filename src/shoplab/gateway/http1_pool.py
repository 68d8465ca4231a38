"""The gateway client's connections, kept alive per instance (see ``http1``).

At most ``limit`` are open at once, to all instances together; at the limit, an idle
connection to any instance is closed to make room, else the caller waits for one to close.
An idle connection is never reused after ``idle_seconds``: chosen shorter than the services'
keep-alive, so that no request is written on a connection its service is closing.
"""

import asyncio
from collections import deque
from collections.abc import Mapping

from shoplab.gateway.http1 import Answer, Connection, ConnectTimeout, NotSent, request_bytes


class Pool:
    """Keep-alive connections per ``(host, port)``, ``limit`` open at once in all."""

    def __init__(self, *, limit: int, idle_seconds: float, connect_timeout: float) -> None:
        self._limit = limit
        self._idle_seconds = idle_seconds
        self._connect_timeout = connect_timeout
        self._idle: dict[tuple[str, int], list[Connection]] = {}
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def send(
        self,
        host: str,
        port: int,
        method: str,
        target: str,
        headers: Mapping[str, str],
        content: bytes | None,
    ) -> Answer:
        """One exchange; ``target`` is the path as it goes out, with its query string."""
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        request = request_bytes(method, target, authority, headers, content)
        connection = self._idle_connection((host, port)) or await self._connect(host, port)
        try:
            answer = await connection.exchange(request, head_only=method == "HEAD")
        except BaseException:
            connection.close()
            self._release(connection, (host, port))
            raise
        self._release(connection, (host, port))
        return answer

    def _idle_connection(self, key: tuple[str, int]) -> Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            transport = connection.transport
            fresh = now - connection.idle_since < self._idle_seconds
            if transport is not None and not transport.is_closing() and fresh:
                return connection
            connection.close()
            self._closed()
        return None

    async def _connect(self, host: str, port: int) -> Connection:
        while self._open >= self._limit and not self._evict_idle():
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            await waiter
        self._open += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await asyncio.get_running_loop().create_connection(
                    Connection, host, port
                )
        except TimeoutError as error:
            self._closed()
            raise ConnectTimeout(f"no connection to {host}:{port} in time") from error
        except OSError as error:
            self._closed()
            raise NotSent(f"no connection to {host}:{port}: {error}") from error
        except BaseException:
            self._closed()
            raise
        return connection

    def _release(self, connection: Connection, key: tuple[str, int]) -> None:
        if connection.reusable and connection.transport is not None:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.setdefault(key, []).append(connection)
            self._wake()  # a caller waiting for room may close it, for another instance
            return
        connection.close()
        self._closed()

    def _evict_idle(self) -> bool:
        """Close the oldest idle connection of any instance, making room for one; False
        when none is idle."""
        for idle in self._idle.values():
            if idle:
                idle.pop(0).close()
                self._open -= 1
                return True
        return False

    def _closed(self) -> None:
        self._open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
                self._open -= 1
        self._idle.clear()
