"""The supervisor under faults: a killed process restarts and loses no acknowledged order."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN_PASSWORD = "crash-test-admin"


@dataclass
class Run:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def status(self) -> dict[str, Any]:
        answer = subprocess.run(
            [sys.executable, "-m", "shoplab", "status", "--json", "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        return dict(json.loads(answer.stdout))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    port = free_port()
    command = [sys.executable, "-m", "shoplab", "up", "--mode", "monolith"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--data-dir", str(tmp_path)],
        env={**os.environ, "SHOPLAB_ADMIN_PASSWORD": ADMIN_PASSWORD},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = Run(f"http://127.0.0.1:{port}", tmp_path, process)
    try:
        wait_until(lambda: ready(started.url))
        yield started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


async def token(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await client.post("/api/auth/token", json={"email": email, "password": password})
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


async def place_while_killing(run: Run, victim: int) -> tuple[list[str], dict[str, str]]:
    """Place orders from several tasks and kill -9 the server in the middle."""
    async with httpx.AsyncClient(base_url=run.url, timeout=10) as client:
        email = f"{uuid.uuid4().hex}@example.com"
        await client.post(
            "/api/auth/register", json={"email": email, "password": "password-1", "name": "C"}
        )
        headers = await token(client, email, "password-1")
        acknowledged: list[str] = []
        enough = asyncio.Event()

        async def customer() -> None:
            for _ in range(15):
                body = {
                    "items": [{"sku": "CB-005", "quantity": 1}],
                    "payment_method": "pm_card_visa",
                }
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


def test_a_killed_process_restarts_and_keeps_every_acknowledged_order(run: Run) -> None:
    before = run.status()["processes"][0]
    acknowledged, headers = asyncio.run(place_while_killing(run, before["pid"]))
    assert len(acknowledged) >= 10

    wait_until(lambda: run.status()["processes"][0]["pid"] != before["pid"] and ready(run.url))
    after = run.status()["processes"][0]
    assert after["restarts"] == 1
    assert after["health"] == "ready"
    assert not alive(before["pid"])

    for order_id in acknowledged:
        answer = httpx.get(f"{run.url}/api/orders/{order_id}", headers=headers, timeout=5)
        assert answer.status_code == 200, order_id
        assert answer.json()["status"] == "APPROVED"


def test_killing_the_supervisor_leaves_no_process_behind(run: Run) -> None:
    child = run.status()["processes"][0]["pid"]
    run.process.send_signal(signal.SIGKILL)
    run.process.wait(timeout=10)
    wait_until(lambda: not alive(child), timeout=15)
