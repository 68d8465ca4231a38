"""The supervisor under faults: a killed process restarts and loses no acknowledged order.

Each test starts a system of its own, because it kills part of it.
"""

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

from .launcher import (
    Launched,
    pid_alive,
    status_processes,
    wait_pids_gone,
)


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


async def place_while_killing(url: str, victim: int) -> tuple[list[str], dict[str, str]]:
    """Place orders from several tasks and kill -9 the server once ten were acknowledged."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        email = f"{uuid.uuid4().hex}@example.com"
        credentials = {"email": email, "password": "password-1"}
        await client.post("/api/auth/register", json={**credentials, "name": "C"})
        token = (await client.post("/api/auth/token", json=credentials)).json()["access_token"]
        headers = {"authorization": f"Bearer {token}"}
        acknowledged: list[str] = []
        enough = asyncio.Event()

        async def customer() -> None:
            body = {"items": [{"sku": "CB-005", "quantity": 1}], "payment_method": "pm_card_visa"}
            for _ in range(15):
                try:
                    answer = await client.post("/api/orders", json=body, headers=headers)
                except httpx.HTTPError:
                    continue
                if answer.status_code == 202:
                    acknowledged.append(answer.json()["order_id"])
                    if len(acknowledged) >= 10:
                        enough.set()

        async def killer() -> None:
            await enough.wait()
            os.kill(victim, signal.SIGKILL)

        await asyncio.gather(killer(), *(customer() for _ in range(4)))
        return acknowledged, headers


def test_a_killed_process_restarts_and_keeps_every_acknowledged_order(
    fresh_system: Launched,
) -> None:
    """kill -9 of the process that takes orders: every 202 still ends APPROVED after restart.

    In the microservices mode the killed orders process also had sagas in flight; they
    resume from the orders database after the restart.
    """
    name = fresh_system.mode.order_process
    before = process_named(fresh_system, name)
    acknowledged, headers = asyncio.run(place_while_killing(fresh_system.base_url, before["pid"]))
    assert len(acknowledged) >= 10

    def restarted() -> bool:
        process = process_named(fresh_system, name)
        return bool(process["pid"] != before["pid"] and process["health"] == "ready")

    wait_until(restarted)
    after = process_named(fresh_system, name)
    assert after["restarts"] == 1
    assert not pid_alive(before["pid"])
    for order_id in acknowledged:
        wait_until(partial(settled, fresh_system, order_id, headers))
        assert status_of(fresh_system, order_id, headers) == "APPROVED", order_id


def settled(system: Launched, order_id: str, headers: dict[str, str]) -> bool:
    """Final, once the gateway answers again: right after a restart its circuit breaker for
    the restarted service may still be open for a few seconds (503), as it should be."""
    answer = httpx.get(f"{system.base_url}/api/orders/{order_id}", headers=headers)
    if answer.status_code == 503:
        return False
    assert answer.status_code == 200, (order_id, answer.text)
    return bool(answer.json()["status"] != "PENDING")


def process_named(system: Launched, name: str) -> dict[str, Any]:
    [process] = [p for p in status_processes(system.data_dir) if p["name"] == name]
    return process


def status_of(system: Launched, order_id: str, headers: dict[str, str]) -> str:
    answer = httpx.get(f"{system.base_url}/api/orders/{order_id}", headers=headers)
    assert answer.status_code == 200, (order_id, answer.text)
    status: str = answer.json()["status"]
    return status


def test_killing_the_supervisor_leaves_no_process_behind(fresh_system: Launched) -> None:
    children = [process["pid"] for process in status_processes(fresh_system.data_dir)]
    fresh_system.process.send_signal(signal.SIGKILL)
    fresh_system.process.wait(timeout=10)
    assert wait_pids_gone(children, timeout=15) == []
