"""Serving an app with a real uvicorn on a free loopback port, for the length of a block."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


@asynccontextmanager
async def serving(config: uvicorn.Config) -> AsyncIterator[tuple[str, int]]:
    """Serve ``config``'s app until the block ends; yields the ``(host, port)`` it listens on.

    The socket is bound before the server starts, so the port is known and never raced for.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield "127.0.0.1", sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def served(app: ASGIApp, *, lifespan: Literal["on", "off"] = "off") -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn's plain settings; yields its base URL."""
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=1,
    )
    async with serving(config) as (host, port):
        yield f"http://{host}:{port}"
