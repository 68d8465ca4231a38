"""Sagas under faults (microservices mode): killed processes, and a participant that never answers.

Each test starts a microservices system of its own, because it breaks part of it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from .api import System, expect_json, poll_until
from .launcher import MODES, Launched, running, status_processes
from .shop import (
    get_payment,
    get_stock,
    kinds,
    pick_products,
    place_and_wait,
    set_stock,
    wait_notifications,
    wait_order,
)
from .workload import Workload, assert_invariants, run_workload

MICROSERVICES = next(mode for mode in MODES if mode.name == "microservices")
ORCHESTRATED = next(mode for mode in MODES if mode.saga == "orchestration" and mode.lifecycle)
"""Timeouts that give up on a silent participant belong to an orchestrated saga only."""
SCALED = replace(MICROSERVICES, name="microservices-scaled", extra_args=("--scale", "inventory=3"))
VICTIMS = ("payments-1", "inventory-1", "orders-1")
KILL_INTERVAL_S = 3.0
FAULT_WORKLOAD = Workload(orders=300, within=90.0)
REJECTED_ONCE = Counter({"ORDER_REJECTED": 1})


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Launched]:
    with running(MICROSERVICES, tmp_path / "shoplab") as launched:
        yield launched


@pytest.fixture
def scaled_services(tmp_path: Path) -> Iterator[Launched]:
    """Three inventory instances sharing inventory's database."""
    with running(SCALED, tmp_path / "shoplab") as launched:
        yield launched


@pytest.fixture
def impatient_services(tmp_path: Path) -> Iterator[Launched]:
    """Sagas that give a silent participant one second (two sends, 0.5 s apart)."""
    settings = {"SHOPLAB_SAGA_STEP_TIMEOUT_SECONDS": "0.5", "SHOPLAB_SAGA_STEP_ATTEMPTS": "2"}
    with running(ORCHESTRATED, tmp_path / "shoplab", env=settings) as launched:
        yield launched


def process(launched: Launched, name: str) -> dict[str, Any]:
    [found] = [p for p in status_processes(launched.data_dir) if p["name"] == name]
    return found


async def test_kill_9_of_payments_inventory_and_orders_loses_no_order(
    services: Launched,
) -> None:
    """300 concurrent orders; the three saga processes are killed, one at a time."""
    system = System.of(services)
    killed: dict[str, int] = {}

    async def kill_one_by_one() -> None:
        for victim in VICTIMS:
            await asyncio.sleep(KILL_INTERVAL_S)
            pid = process(services, victim)["pid"]
            os.kill(pid, signal.SIGKILL)
            killed[victim] = pid

    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        admin = await system.admin_headers(client)
        outcome = await run_workload(
            client, admin, FAULT_WORKLOAD, name="microservices-kill-9", during=kill_one_by_one
        )
        assert set(killed) == set(VICTIMS)
        for victim, pid in killed.items():
            restarted = process(services, victim)
            assert restarted["pid"] != pid, restarted
            assert restarted["restarts"] >= 1, restarted
        await assert_invariants(client, admin, outcome)


async def test_kill_9_of_one_inventory_instance_among_three_loses_no_order(
    scaled_services: Launched,
) -> None:
    """Callers fail over to the live instances; the killed one restarts and rejoins."""
    system = System.of(scaled_services)
    names = {p["name"] for p in status_processes(scaled_services.data_dir)}
    assert {"inventory-1", "inventory-2", "inventory-3"} <= names
    victim = process(scaled_services, "inventory-2")["pid"]

    async def kill_one_instance() -> None:
        await asyncio.sleep(KILL_INTERVAL_S)
        os.kill(victim, signal.SIGKILL)

    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        admin = await system.admin_headers(client)
        outcome = await run_workload(
            client,
            admin,
            Workload(orders=200, within=90.0),
            name="microservices-scaled-kill-9",
            during=kill_one_instance,
        )
        restarted = process(scaled_services, "inventory-2")
        assert restarted["pid"] != victim, restarted
        await assert_invariants(client, admin, outcome)


async def test_a_silent_payments_service_rejects_as_payment_unavailable_and_nets_zero(
    impatient_services: Launched,
) -> None:
    """A frozen payments process: the saga gives up, voids the charge and releases the stock.

    When payments wakes up it applies the charge and the void in the order they were sent,
    and the payment nets zero.
    """
    system = System.of(impatient_services)
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        admin = await system.admin_headers(client)
        customer = await system.register_customer(client)
        [product] = await pick_products(client, 1)
        sku = product["sku"]
        await set_stock(client, admin, sku, 10)
        first = await place_and_wait(client, customer, [(sku, 1)], "pm_card_visa")
        assert first["status"] == "APPROVED", first

        payments = process(impatient_services, "payments-1")["pid"]
        os.kill(payments, signal.SIGSTOP)
        try:
            response = await client.post(
                "/api/orders",
                json={"items": [{"sku": sku, "quantity": 2}], "payment_method": "pm_card_visa"},
                headers=customer.headers,
            )
            order_id = expect_json(response, 202)["order_id"]
            order = await wait_order(client, order_id, customer.headers, within=30)
            assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_UNAVAILABLE")
            stock = await get_stock(client, admin, sku)
            assert (stock["on_hand"], stock["reserved"]) == (9, 0), stock
            saga = expect_json(await client.get(f"/api/admin/sagas/{order_id}", headers=admin), 200)
            steps = [(step["name"], step["status"]) for step in saga["steps"]]
            assert ("CHARGE_PAYMENT", "TIMED_OUT") in steps, steps
            assert ("VOID_PAYMENT", "STARTED") in steps, steps
        finally:
            os.kill(payments, signal.SIGCONT)

        payment = await poll_until(
            lambda: get_payment(client, admin, order_id),
            lambda found: found is not None and found["status"] in {"REFUNDED", "VOIDED"},
            what="the void of the timed-out charge",
            within=60,
        )
        assert payment is not None
        assert payment["charged_cents"] == payment["refunded_cents"], payment
        await poll_until(
            lambda: client.get(f"/api/admin/sagas/{order_id}", headers=admin),
            lambda answer: (
                ["VOID_PAYMENT", "SUCCEEDED"]
                in [[s["name"], s["status"]] for s in answer.json()["steps"]]
            ),
            what="the saga to record the void",
        )
        notes = await wait_notifications(client, admin, order_id, REJECTED_ONCE)
        assert kinds(notes) == REJECTED_ONCE
