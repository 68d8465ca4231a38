"""After a benchmark, the invariants of API.md, checked: a fast wrong answer is no result.

Every accepted order is final; stock is conserved for every sku (what the approved orders
took, by the watcher's account of their outcomes, is what left the shelves) and nothing
stays reserved; for a seeded sample of orders, the order as the API shows it agrees with
the outcome the watcher saw, money is conserved and exactly one notification tells the
outcome. The checks read through the API, after the metered phases.
"""

import asyncio
import random
import time
from collections import Counter

from shoplab.bench.driver import Shop
from shoplab.bench.settlement import FINAL, Placement

SAMPLE = 20
NOTIFICATION_WAIT_SECONDS = 15.0
KIND = {"APPROVED": "ORDER_APPROVED", "REJECTED": "ORDER_REJECTED"}


async def check(shop: Shop, placements: list[Placement], stock: dict[str, int]) -> list[str]:
    """What is wrong; an empty list when every invariant held."""
    problems = await _final(shop, placements)
    problems += await _stock(shop, placements, stock)
    sample = random.Random(len(placements)).sample(placements, min(SAMPLE, len(placements)))
    for placement in sample:
        problems += await _as_shown(shop, placement)
    return problems


async def _final(shop: Shop, placements: list[Placement]) -> list[str]:
    """Orders the watcher never saw settle are read once: final, or a problem."""
    problems = []
    for placement in (p for p in placements if not p.status):
        _, order = await _order(shop, placement)
        if order.get("status") in FINAL:
            placement.status = str(order["status"])
        else:
            problems.append(f"order {placement.order_id} is not final: {order}")
    return problems


async def _stock(shop: Shop, placements: list[Placement], stock: dict[str, int]) -> list[str]:
    taken: Counter[str] = Counter()
    for placement in placements:
        if placement.status == "APPROVED":
            for sku, quantity in placement.planned.lines:
                taken[sku] += quantity
    problems = []
    for sku, initial in stock.items():
        status, body = await shop.json("GET", f"/api/admin/inventory/{sku}", shop.admin)
        expected = initial - taken[sku]
        if status != 200 or body["on_hand"] != expected or body["reserved"] != 0:
            problems.append(f"stock of {sku}: {body}, expected on_hand {expected}, reserved 0")
    return problems


async def _as_shown(shop: Shop, placement: Placement) -> list[str]:
    status, order = await _order(shop, placement)
    if status != 200 or order.get("status") != placement.status:
        return [f"order {placement.order_id} reads {order}, the watcher saw {placement.status}"]
    return await _money(shop, placement, order) + await _notification(shop, placement)


async def _order(shop: Shop, placement: Placement) -> tuple[int, dict[str, object]]:
    headers = shop.customers[placement.planned.customer]
    status, body = await shop.json("GET", f"/api/orders/{placement.order_id}", headers)
    return status, body if isinstance(body, dict) else {}


async def _money(shop: Shop, placement: Placement, order: dict[str, object]) -> list[str]:
    path = f"/api/admin/payments?order_id={placement.order_id}"
    status, payment = await shop.json("GET", path, shop.admin)
    if order["status"] == "APPROVED":
        charged = payment.get("charged_cents") if status == 200 else None
        if charged != order["total_cents"] or payment.get("refunded_cents") != 0:
            return [f"approved order {placement.order_id} total {order['total_cents']}: {payment}"]
    elif status == 200 and payment["charged_cents"] != payment["refunded_cents"]:
        return [f"rejected order {placement.order_id} is not refunded: {payment}"]
    return []


async def _notification(shop: Shop, placement: Placement) -> list[str]:
    """Notifications follow the final status by a moment: wait a little for them."""
    path = f"/api/admin/notifications?order_id={placement.order_id}"
    deadline = time.monotonic() + NOTIFICATION_WAIT_SECONDS
    while True:
        _, body = await shop.json("GET", path, shop.admin)
        kinds = [item["kind"] for item in body.get("items", [])]
        if kinds == [KIND[placement.status]]:
            return []
        if len(kinds) > 1 or time.monotonic() > deadline:
            return [f"order {placement.order_id} ({placement.status}) notified {kinds}"]
        await asyncio.sleep(0.1)
