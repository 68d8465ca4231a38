"""The benchmark's HTTP client against a real server: uvicorn with a bare Starlette app."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoplab.bench.client import Client, ProtocolError, prepare
from shoplab.runtime.ports import free_ports


async def echo(request: Request) -> Response:
    body = await request.body()
    answer = f"{request.headers['idempotency-key']}:{len(body)}".encode()
    return Response(answer, status_code=202)


async def refuse(request: Request) -> Response:
    return Response(b"busy", status_code=503, headers={"Retry-After": "2"})


async def bye(request: Request) -> Response:
    return Response(b"", status_code=204, headers={"Connection": "close"})


@pytest.fixture
async def server() -> AsyncIterator[int]:
    (port,) = free_ports(1)
    app = Starlette(
        routes=[
            Route("/echo", echo, methods=["POST"]),
            Route("/refuse", refuse, methods=["POST"]),
            Route("/bye", bye),
        ]
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    while not served.started:  # noqa: ASYNC110 (uvicorn says so by a flag only)
        await asyncio.sleep(0.01)
    yield port
    served.should_exit = True
    await task


def test_a_prepared_request_is_the_bytes_on_the_wire() -> None:
    request = prepare("POST", "/api/orders", "h:1", {"Idempotency-Key": "k"}, b'{"a":1}')
    assert request == (
        b"POST /api/orders HTTP/1.1\r\nHost: h:1\r\nIdempotency-Key: k\r\n"
        b'Content-Length: 7\r\n\r\n{"a":1}'
    )


async def test_answers_come_back_in_turn_on_kept_alive_connections(server: int) -> None:
    client = Client("127.0.0.1", server, limit=4)
    try:

        async def one(n: int) -> bytes:
            request = prepare(
                "POST", "/echo", client.authority, {"Idempotency-Key": str(n)}, b"x" * n
            )
            answer = await client.send(request)
            assert answer.status == 202
            return answer.body

        bodies = await asyncio.gather(*(one(n) for n in range(40)))
        assert bodies == [f"{n}:{n}".encode() for n in range(40)]
        assert len(client._all) <= 4  # at most ``limit`` connections, reused
    finally:
        client.close()


async def test_a_refusal_carries_its_retry_after(server: int) -> None:
    client = Client("127.0.0.1", server)
    try:
        answer = await client.send(prepare("POST", "/refuse", client.authority, {}))
        assert (answer.status, answer.retry_after, answer.body) == (503, 2.0, b"busy")
    finally:
        client.close()


async def test_a_closing_answer_drops_the_connection_and_the_next_opens_another(
    server: int,
) -> None:
    client = Client("127.0.0.1", server)
    try:
        first = await client.send(prepare("GET", "/bye", client.authority, {}))
        assert (first.status, first.closing) == (204, True)
        second = await client.send(prepare("GET", "/bye", client.authority, {}))
        assert second.status == 204
    finally:
        client.close()


async def test_a_dead_server_is_an_error_not_a_hang() -> None:
    (port,) = free_ports(1)
    client = Client("127.0.0.1", port)
    with pytest.raises((OSError, ProtocolError)):
        await asyncio.wait_for(client.send(prepare("GET", "/", client.authority, {})), 5)
