"""A seeded, concurrent, mixed workload, and the five invariants of API.md checked after it.

Many customers race for scarce stock with every test card; a few approved orders are
cancelled afterwards. ``run_workload`` drives it (optionally with faults injected while the
orders are placed) and ``assert_invariants`` checks the settled state exactly. Clients behave
as a careful client should: every placement carries an ``Idempotency-Key`` and is retried on
a 5xx answer or a broken connection, so no retry can create a second order.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .api import (
    ALL_CARDS,
    CHARGING_CARDS,
    DECLINED_CARD,
    INSUFFICIENT_CARD,
    SETTLE_TIMEOUT_S,
    Customer,
    assert_problem,
    poll_until,
    register_customers,
)
from .shop import (
    cancel_and_wait,
    check_accepted,
    expected_total,
    get_notifications,
    get_order,
    get_payment,
    get_stock,
    kinds,
    list_orders,
    list_products,
    order_body,
    post_order,
    set_stock,
)

T = TypeVar("T")

SEED = 20_240_611
SCARCE_SKUS = 4
PLENTIFUL_SKUS = 4
PLENTIFUL_ON_HAND = 100_000
CANCELLATIONS = 6
FIGURES_ENV = "SHOPLAB_E2E_FIGURES"
FINAL_STATUSES = {"APPROVED", "REJECTED"}
LIMIT = 16
"""Concurrent requests while checking the settled state."""
REJECTION_REASONS = {
    "OUT_OF_STOCK",
    "PAYMENT_DECLINED",
    "INSUFFICIENT_FUNDS",
    "PAYMENT_UNAVAILABLE",
}


@dataclass(frozen=True)
class Workload:
    orders: int = 240
    customers: int = 10
    concurrency: int = 16
    within: float = SETTLE_TIMEOUT_S
    """How long one order may take to be accepted, and then to settle."""


@dataclass
class Placement:
    """One planned order and what became of it."""

    customer: Customer
    lines: list[tuple[str, int]]
    card: str
    order_id: str = ""
    latency_s: float = 0.0
    settle_s: float = 0.0
    final: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False


@dataclass
class Outcome:
    """A finished workload: what was placed and what the stock was before."""

    plans: list[Placement]
    customers: list[Customer]
    prices: dict[str, int]
    initial: dict[str, int]
    violations: list[dict[str, Any]]
    concurrency: int


async def bounded(limit: int, jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Run awaitables with at most ``limit`` in flight, keeping their order."""
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return list(await asyncio.gather(*(run(job) for job in jobs)))


def percentile_ms(samples: list[float], percent: float) -> float:
    ordered = sorted(samples)
    rank = max(math.ceil(percent / 100 * len(ordered)) - 1, 0)
    return round(ordered[rank] * 1000, 1)


def plan_workload(
    rng: random.Random, customers: list[Customer], skus: list[str], orders: int
) -> list[Placement]:
    plans = []
    for _ in range(orders):
        chosen = rng.sample(skus, rng.randint(1, 3))
        lines = [(sku, rng.randint(1, 3)) for sku in chosen]
        plans.append(Placement(rng.choice(customers), lines, rng.choice(ALL_CARDS)))
    return plans


async def place(client: httpx.AsyncClient, plan: Placement, within: float) -> None:
    """Place one order, retrying with its idempotency key while the system answers 5xx."""
    key = str(uuid.uuid4())
    started = time.perf_counter()
    body = order_body(plan.lines, plan.card)
    while True:
        response = await _answer(post_order(client, plan.customer, body, idempotency_key=key))
        if response is not None and response.status_code < 500:
            break
        assert time.perf_counter() - started < within, f"no placement accepted within {within} s"
        await asyncio.sleep(0.2)
    plan.latency_s = time.perf_counter() - started
    plan.order_id = check_accepted(response)


async def settle(client: httpx.AsyncClient, plan: Placement, within: float) -> None:
    """Wait for the order's final status, through restarts (a 5xx or a broken connection).

    The time to the final status is measured without polling hard (which would load the
    system it measures): the placement latency plus the time the server took from storing
    the order to settling it (``updated_at - created_at``, both written by the orders owner).
    """
    deadline = time.perf_counter() + within
    interval = 0.02
    while True:
        answer = await _answer(
            client.get(f"/api/orders/{plan.order_id}", headers=plan.customer.headers)
        )
        if answer is not None and answer.status_code == 200:
            order = answer.json()
            if order["status"] in FINAL_STATUSES:
                plan.final = order
                settling = datetime.fromisoformat(order["updated_at"]) - datetime.fromisoformat(
                    order["created_at"]
                )
                plan.settle_s = plan.latency_s + settling.total_seconds()
                return
        else:
            assert answer is None or answer.status_code >= 500, answer.text
        assert time.perf_counter() < deadline, f"order {plan.order_id} did not settle"
        await asyncio.sleep(interval)
        interval = min(interval * 2, 0.5)


async def _answer(request: Awaitable[httpx.Response]) -> httpx.Response | None:
    """The response, or None when the connection failed (a process was restarting)."""
    try:
        return await request
    except httpx.TransportError:
        return None


async def watch_stock(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    skus: list[str],
    stop: asyncio.Event,
    violations: list[dict[str, Any]],
) -> None:
    """Sample stock while the workload runs: no counter may ever go below zero."""
    while not stop.is_set():
        for response in await asyncio.gather(
            *(_answer(client.get(f"/api/admin/inventory/{sku}", headers=admin)) for sku in skus)
        ):
            if response is None or response.status_code != 200:
                continue  # inventory is restarting; the next sample will tell
            record = response.json()
            if min(record["on_hand"], record["reserved"], record["available"]) < 0:
                violations.append(record)
            if record["available"] != record["on_hand"] - record["reserved"]:
                violations.append(record)
        await asyncio.sleep(0.05)


def expected_notifications(plan: Placement) -> Counter[str]:
    if plan.cancelled:
        return Counter({"ORDER_APPROVED": 1, "ORDER_CANCELLED": 1})
    if plan.final["status"] == "APPROVED":
        return Counter({"ORDER_APPROVED": 1})
    return Counter({"ORDER_REJECTED": 1})


def report_figures(name: str, plans: list[Placement], seconds: float, concurrency: int) -> None:
    """Print the run's figures, and add them to the JSON file named by SHOPLAB_E2E_FIGURES."""
    latencies = [plan.latency_s for plan in plans]
    settles = [plan.settle_s for plan in plans]
    figures = {
        "orders": len(plans),
        "seconds": round(seconds, 3),
        "placement_p50_ms": percentile_ms(latencies, 50),
        "placement_p99_ms": percentile_ms(latencies, 99),
        "final_p50_ms": percentile_ms(settles, 50),
        "final_p99_ms": percentile_ms(settles, 99),
        "concurrency": concurrency,
    }
    print(f"\nE2E workload [{name}]: {json.dumps(figures)}")
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    path = Path(target)
    recorded: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                recorded = loaded
        except json.JSONDecodeError:
            recorded = {}
    recorded[name] = figures
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


async def run_workload(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    workload: Workload,
    *,
    name: str,
    during: Callable[[], Awaitable[None]] | None = None,
) -> Outcome:
    """Set up stock, place every order (with ``during`` running alongside), cancel a few."""
    rng = random.Random(SEED)
    products = sorted(await list_products(client), key=lambda product: product["sku"])
    prices = {product["sku"]: int(product["price_cents"]) for product in products}
    chosen = [product["sku"] for product in rng.sample(products, SCARCE_SKUS + PLENTIFUL_SKUS)]
    scarce, plentiful = chosen[:SCARCE_SKUS], chosen[SCARCE_SKUS:]
    customers = await register_customers(client, workload.customers)
    for sku in scarce:
        await set_stock(client, admin, sku, rng.randint(3, 10))
    for sku in plentiful:
        await set_stock(client, admin, sku, PLENTIFUL_ON_HAND)
    plans = plan_workload(rng, customers, chosen, workload.orders)
    initial: dict[str, int] = {}
    for sku in chosen:
        record = await get_stock(client, admin, sku)
        assert record["reserved"] == 0, record
        initial[sku] = record["on_hand"]

    stop = asyncio.Event()
    violations: list[dict[str, Any]] = []
    watcher = asyncio.create_task(watch_stock(client, admin, scarce, stop, violations))
    started = time.perf_counter()
    placing = bounded(workload.concurrency, (place(client, p, workload.within) for p in plans))
    try:
        await asyncio.gather(placing, during() if during else asyncio.sleep(0))
        await bounded(workload.concurrency, (settle(client, p, workload.within) for p in plans))
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        await watcher
    report_figures(name, plans, elapsed, workload.concurrency)

    approved = [plan for plan in plans if plan.final["status"] == "APPROVED"]
    rejected = [plan for plan in plans if plan.final["status"] == "REJECTED"]
    assert approved, "the workload approved nothing"
    assert any(plan.final["reason"] == "OUT_OF_STOCK" for plan in rejected), "no stock race"
    to_cancel = rng.sample(approved, min(CANCELLATIONS, len(approved)))
    cancelled = await bounded(
        workload.concurrency,
        (cancel_and_wait(client, plan.customer, plan.order_id) for plan in to_cancel),
    )
    for plan, final in zip(to_cancel, cancelled, strict=True):
        plan.cancelled = True
        plan.final = final
    return Outcome(plans, customers, prices, initial, violations, workload.concurrency)


async def assert_invariants(
    client: httpx.AsyncClient, admin: dict[str, str], outcome: Outcome
) -> None:
    """The five invariants of API.md, on the settled state after ``outcome``."""
    plans = outcome.plans
    await assert_orders_final(client, plans, outcome.prices)
    await assert_stock_conserved(client, admin, plans, outcome.initial, outcome.violations)
    await assert_money_conserved(client, admin, plans)
    await assert_one_notification_per_outcome(client, admin, plans)
    await assert_customers_see_only_their_orders(client, outcome.customers, plans)


async def assert_orders_final(
    client: httpx.AsyncClient, plans: list[Placement], prices: dict[str, int]
) -> None:
    """Invariant 1: every order is APPROVED or REJECTED (CANCELLED only when cancelled)."""
    orders = await bounded(
        LIMIT,
        (get_order(client, plan.order_id, plan.customer.headers) for plan in plans),
    )
    assert len({plan.order_id for plan in plans}) == len(plans), "duplicate order ids"
    for plan, order in zip(plans, orders, strict=True):
        context = (plan.card, plan.lines, order)
        assert order["customer_id"] == plan.customer.customer_id, context
        assert order["total_cents"] == expected_total(plan.lines, prices), context
        if plan.cancelled:
            assert (order["status"], order["reason"]) == (
                "CANCELLED",
                "CANCELLED_BY_CUSTOMER",
            ), context
            continue
        assert order["status"] in {"APPROVED", "REJECTED"}, context
        assert order == plan.final, context
        if order["status"] == "APPROVED":
            assert order["reason"] is None, context
            assert plan.card in CHARGING_CARDS, context
            continue
        assert order["reason"] in REJECTION_REASONS, context
        allowed = {"OUT_OF_STOCK"}
        if plan.card == DECLINED_CARD:
            allowed.add("PAYMENT_DECLINED")
        elif plan.card == INSUFFICIENT_CARD:
            allowed.add("INSUFFICIENT_FUNDS")
        else:
            allowed.add("PAYMENT_UNAVAILABLE")
        assert order["reason"] in allowed, context


async def assert_stock_conserved(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    plans: list[Placement],
    initial: dict[str, int],
    violations: list[dict[str, Any]],
) -> None:
    """Invariant 2: on_hand drops by exactly the kept approved quantities; nothing reserved."""
    assert violations == [], f"stock went negative or inconsistent: {violations[:5]}"
    taken: dict[str, int] = defaultdict(int)
    for plan in plans:
        if plan.final["status"] == "APPROVED" and not plan.cancelled:
            for sku, quantity in plan.lines:
                taken[sku] += quantity
    for sku, on_hand in initial.items():
        record = await poll_until(
            partial(get_stock, client, admin, sku),
            lambda record: record["reserved"] == 0,
            what=f"reservations of {sku} to be released",
        )
        assert record == {
            "sku": sku,
            "on_hand": on_hand - taken[sku],
            "reserved": 0,
            "available": on_hand - taken[sku],
        }, (record, on_hand, taken[sku])
        assert record["available"] >= 0


async def assert_money_conserved(
    client: httpx.AsyncClient, admin: dict[str, str], plans: list[Placement]
) -> None:
    """Invariant 3: approved charged once, rejected nets zero, cancelled refunded in full."""
    payments = await bounded(LIMIT, (get_payment(client, admin, plan.order_id) for plan in plans))
    for plan, payment in zip(plans, payments, strict=True):
        total = plan.final["total_cents"]
        context = (plan.order_id, plan.final["status"], plan.card, payment)
        if plan.cancelled:
            assert payment is not None, context
            assert payment["charged_cents"] == total, context
            assert payment["refunded_cents"] == total, context
        elif plan.final["status"] == "APPROVED":
            assert payment is not None, context
            assert payment["charged_cents"] == total, context
            assert payment["refunded_cents"] == 0, context
        elif payment is not None and payment["charged_cents"] != payment["refunded_cents"]:
            # A charge whose answer came too late is voided afterwards: wait for the refund.
            settled = await poll_until(
                partial(get_payment, client, admin, plan.order_id),
                lambda p: p is not None and p["charged_cents"] == p["refunded_cents"],
                what=f"the payment of rejected order {plan.order_id} to net zero",
            )
            assert settled is not None, context


async def assert_one_notification_per_outcome(
    client: httpx.AsyncClient, admin: dict[str, str], plans: list[Placement]
) -> None:
    """Invariant 4: exactly one notification per final outcome, stable once settled."""

    async def settled(plan: Placement) -> None:
        expected = expected_notifications(plan)
        await poll_until(
            lambda: get_notifications(client, admin, plan.order_id),
            lambda items: all(kinds(items)[kind] >= n for kind, n in expected.items()),
            what=f"notifications {dict(expected)} of order {plan.order_id}",
        )

    await bounded(LIMIT, (settled(plan) for plan in plans))
    await asyncio.sleep(0.5)
    notes = await bounded(
        LIMIT, (get_notifications(client, admin, plan.order_id) for plan in plans)
    )
    for plan, items in zip(plans, notes, strict=True):
        assert kinds(items) == expected_notifications(plan), (plan.order_id, items)
        assert {item["order_id"] for item in items} == {plan.order_id}, items


async def assert_customers_see_only_their_orders(
    client: httpx.AsyncClient, customers: list[Customer], plans: list[Placement]
) -> None:
    """Invariant 5: each list holds exactly the caller's orders; others' orders are 404."""
    owned: dict[str, set[str]] = defaultdict(set)
    for plan in plans:
        owned[plan.customer.customer_id].add(plan.order_id)

    async def check_list(customer: Customer) -> None:
        mine = owned[customer.customer_id]
        items = await poll_until(
            partial(list_orders, client, customer.headers),
            lambda items: {item["order_id"] for item in items} >= mine,
            what=f"the list of customer {customer.customer_id}",
        )
        assert {item["order_id"] for item in items} == mine
        assert len(items) == len(mine), "an order is listed twice"

    await asyncio.gather(*(check_list(customer) for customer in customers))
    rng = random.Random(SEED + 1)
    for plan in rng.sample(plans, 12):
        stranger = rng.choice([c for c in customers if c.customer_id != plan.customer.customer_id])
        response = await client.get(f"/api/orders/{plan.order_id}", headers=stranger.headers)
        assert_problem(response, 404)
        details = await client.get(f"/api/orders/{plan.order_id}/details", headers=stranger.headers)
        assert_problem(details, 404)
        assert_problem(await client.get(f"/api/orders/{plan.order_id}"), 401)
