"""Graceful degradation under an injected fault (microservices mode).

``shoplab fault payments --latency-ms 5000`` slows every payments instance at once,
through the signed control channel. The details page must still answer within a
second, naming the payment as degraded; placements keep being accepted and their
sagas end (by the answer or by their timeouts and compensations), never hang; after
``--clear`` the full answer comes back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .api import System, expect_json
from .launcher import MODES, Launched, run_cli, running, status_processes
from .shop import pick_products, place_and_wait, set_stock, wait_order

MICROSERVICES = next(mode for mode in MODES if mode.name == "microservices")
SLOW_MS = 5000


pytestmark = pytest.mark.xdist_group("degradation")  # one worker, so one system for the module


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    """One system for the module: each test leaves it without a fault, as it found it."""
    with running(MICROSERVICES, tmp_path_factory.mktemp("degradation") / "shoplab") as launched:
        yield launched


def fault(launched: Launched, *args: str) -> str:
    result = run_cli("fault", "payments", *args, "--data-dir", str(launched.data_dir))
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


async def test_a_slow_payments_service_degrades_the_details_and_never_hangs_a_saga(
    services: Launched,
) -> None:
    system = System.of(services)
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        admin = await system.admin_headers(client)
        customer = await system.register_customer(client)
        [product] = await pick_products(client, 1)
        await set_stock(client, admin, product["sku"], 50)
        first = await place_and_wait(client, customer, [(product["sku"], 1)], "pm_card_visa")
        assert first["status"] == "APPROVED", first

        assert "payments-1: obeyed" in fault(services, "--latency-ms", str(SLOW_MS))
        [payments] = [p for p in status_processes(services.data_dir) if p["name"] == "payments-1"]
        assert payments["faults"] == {"latency_ms": SLOW_MS, "error_rate": 0.0}

        started = time.perf_counter()
        details = await client.get(
            f"/api/orders/{first['order_id']}/details", headers=customer.headers
        )
        elapsed = time.perf_counter() - started
        body = expect_json(details, 200)
        assert body["degraded"] == ["payment"], body
        assert body["payment"] is None
        assert body["order"]["order_id"] == first["order_id"]
        assert elapsed < 1.0, f"the details took {elapsed:.2f} s with payments slowed"

        placed = await client.post(
            "/api/orders",
            json={
                "items": [{"sku": product["sku"], "quantity": 1}],
                "payment_method": "pm_card_visa",
            },
            headers=customer.headers,
        )
        order_id = expect_json(placed, 202)["order_id"]
        final = await wait_order(client, order_id, customer.headers, within=90)
        assert final["status"] in {"APPROVED", "REJECTED"}, final

        fault(services, "--clear")
        started = time.perf_counter()
        while True:
            answer = expect_json(
                await client.get(f"/api/orders/{order_id}/details", headers=customer.headers), 200
            )
            if not answer["degraded"]:
                break
            assert time.perf_counter() - started < 10, f"still degraded after 10 s: {answer}"
        assert answer["payment"] is not None, answer


def test_a_fault_order_needs_the_runs_secret(services: Launched, tmp_path: Path) -> None:
    """The control channel is authenticated: a data folder with another secret is refused."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "keys").mkdir(parents=True)
    (elsewhere / "keys" / "service-secret").write_text("x" * 64)
    state_file = services.data_dir / "run" / "state.json"
    (elsewhere / "run").mkdir()
    (elsewhere / "run" / "state.json").write_text(state_file.read_text())
    result = run_cli("fault", "payments", "--latency-ms", "5000", "--data-dir", str(elsewhere))
    assert result.returncode != 0
    assert "refused" in result.stdout
    [payments] = [p for p in status_processes(services.data_dir) if p["name"] == "payments-1"]
    assert payments["faults"] == {"latency_ms": 0, "error_rate": 0.0}
