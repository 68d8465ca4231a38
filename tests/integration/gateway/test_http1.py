"""The gateway's own HTTP/1.1 client against a real server on a loopback port.

The server is a plain asyncio one, so each test controls the bytes of the answer and
sees every connection the client opens.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from shoplab.gateway.http1 import NotSent
from shoplab.gateway.http1_pool import Pool
from shoplab.platform.resilience import ExchangeBroken, is_availability_failure, is_retryable

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
Answering = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def server(answer: Answering) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server whose every connection is served by ``answer``; yields its port and the
    heads of the requests it read (one list entry per connection, heads joined)."""
    heads: list[bytes] = []

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(b"")
        index = len(heads) - 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                heads[index] += head
                await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield listener.sockets[0].getsockname()[1], heads
    finally:
        listener.close()


def answering(data: bytes) -> Answering:
    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return answer


def pool(idle_seconds: float = 10.0) -> Pool:
    return Pool(limit=4, idle_seconds=idle_seconds, connect_timeout=1.0)


async def test_connections_are_kept_alive_and_reused() -> None:
    client = pool()
    async with server(answering(OK)) as (port, heads):
        for _ in range(3):
            answer = await client.send("127.0.0.1", port, "GET", "/a?b=1", {"accept": "x"}, None)
            assert (answer.status_code, answer.body) == (200, b"{}")
            assert answer.headers["content-type"] == "application/json"
        client.close()
    assert len(heads) == 1, "one connection for three exchanges"
    assert heads[0].count(b"GET /a?b=1 HTTP/1.1\r\n") == 3
    assert b"Host: 127.0.0.1:" in heads[0]
    assert b"accept: x\r\n" in heads[0]
    assert b"Content-Length" not in heads[0], "a GET without a body declares none"


async def test_an_idle_connection_is_not_reused_once_too_old() -> None:
    client = pool(idle_seconds=0.0)
    async with server(answering(OK)) as (port, heads):
        for _ in range(2):
            await client.send("127.0.0.1", port, "GET", "/", {}, None)
        client.close()
    assert len(heads) == 2


async def test_a_chunked_answer_and_repeated_headers_are_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 201 Created\r\nVary: a\r\nVary: b\r\ntransfer-encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    client = pool()
    async with server(answering(chunked)) as (port, heads):
        answer = await client.send("127.0.0.1", port, "POST", "/", {"Host": "shop"}, b"xy")
        client.close()
    assert (answer.status_code, answer.body, answer.headers["vary"]) == (201, b"abcde", "a, b")
    assert b"Host: shop\r\n" in heads[0]
    assert b"Content-Length: 2\r\n" in heads[0]
    assert b"127.0.0.1" not in heads[0], "the caller's Host is the only one"


async def test_a_head_answer_ends_with_its_head() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"
    client = pool()
    async with server(answering(head)) as (port, heads):
        for _ in range(2):
            answer = await asyncio.wait_for(
                client.send("127.0.0.1", port, "HEAD", "/", {}, None), 1
            )
            assert (answer.status_code, answer.body) == (200, b"")
        client.close()
    assert len(heads) == 2, "a connection after a HEAD is not trusted with another exchange"


async def test_a_refused_connection_was_not_sent_and_may_go_elsewhere() -> None:
    async with server(answering(OK)) as (port, _heads):
        pass  # closed: its port refuses
    with pytest.raises(NotSent) as refused:
        await pool().send("127.0.0.1", port, "POST", "/", {}, b"{}")
    assert is_retryable(refused.value)


async def test_a_connection_cut_before_the_answer_is_a_broken_exchange_never_retried() -> None:
    async def cut(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        await writer.drain()
        writer.close()

    client = pool()
    async with server(cut) as (port, _heads):
        with pytest.raises(ExchangeBroken) as broken:
            await client.send("127.0.0.1", port, "POST", "/", {}, b"{}")
    assert is_availability_failure(broken.value)
    assert not is_retryable(broken.value)


async def test_an_unreadable_answer_is_a_broken_exchange() -> None:
    client = pool()
    async with server(answering(b"NOT HTTP AT ALL\r\n\r\n")) as (port, _heads):
        with pytest.raises(ExchangeBroken):
            await client.send("127.0.0.1", port, "GET", "/", {}, None)


async def test_a_cancelled_exchange_closes_its_connection() -> None:
    async def silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await reader.read()

    client = pool()
    async with server(silent) as (port, heads):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.send("127.0.0.1", port, "GET", "/", {}, None), 0.1)
    assert len(heads) == 1
    assert client._idle_connection(("127.0.0.1", port)) is None


async def test_at_its_limit_the_pool_closes_an_idle_connection_to_make_room() -> None:
    client = Pool(limit=1, idle_seconds=10.0, connect_timeout=1.0)
    async with server(answering(OK)) as (first, _), server(answering(OK)) as (second, _):
        await client.send("127.0.0.1", first, "GET", "/", {}, None)
        answer = await asyncio.wait_for(client.send("127.0.0.1", second, "GET", "/", {}, None), 1)
        client.close()
    assert answer.status_code == 200
    assert client._idle_connection(("127.0.0.1", first)) is None
