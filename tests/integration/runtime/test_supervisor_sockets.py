"""The supervisor holds each child's HTTP port and hands the listening socket down.

The child is a real process serving a small app with the chassis's ``serve``; the
supervisor is the one ``shoplab up`` runs.
"""

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shoplab.runtime.plans import Plan, ProcessSpec
from shoplab.runtime.ports import free_ports, port_free
from shoplab.runtime.supervisor import Supervisor

CHILD = """
from fastapi import FastAPI
from shoplab.platform.http.server import serve
app = FastAPI()
app.get("/ready")(lambda: {"ready": True})
serve(app, host="127.0.0.1", port=0)  # any port: the supervisor's socket is used
"""


@pytest.fixture
async def supervised(tmp_path: Path) -> AsyncIterator[tuple[Supervisor, int]]:
    [port] = free_ports(1)
    spec = ProcessSpec(
        "web-1",
        [sys.executable, "-c", CHILD],
        {"http": port},
        f"http://127.0.0.1:{port}/ready",
    )
    supervisor = Supervisor("test", Plan([spec], f"http://127.0.0.1:{port}"), tmp_path)
    try:
        yield supervisor, port
    finally:
        await supervisor.stop()


async def test_the_port_is_held_from_the_plan_on_and_the_child_serves_on_it(
    supervised: tuple[Supervisor, int],
) -> None:
    supervisor, port = supervised
    assert not port_free(port), "held by the supervisor before any child runs"
    assert await supervisor.start(ready_timeout=30)
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{port}/ready")
    assert answer.json() == {"ready": True}


async def test_a_restarted_child_serves_the_requests_that_came_meanwhile(
    supervised: tuple[Supervisor, int],
) -> None:
    supervisor, port = supervised
    assert await supervisor.start(ready_timeout=30)
    watching = asyncio.create_task(supervisor.run_until_stopped())
    [child] = supervisor.children
    assert child.process is not None
    child.process.send_signal(signal.SIGKILL)
    await child.process.wait()
    async with httpx.AsyncClient(timeout=30) as client:  # queued on the held socket
        answer = await client.get(f"http://127.0.0.1:{port}/ready")
    assert answer.json() == {"ready": True}
    assert child.restarts == 1
    watching.cancel()


async def test_a_port_taken_since_the_plan_was_made_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = ProcessSpec("web-1", [sys.executable, "-c", CHILD], {"http": port}, "")
        with pytest.raises(OSError, match="in use"):
            Supervisor("test", Plan([spec], ""), tmp_path)
