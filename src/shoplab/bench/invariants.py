"""After a benchmark, the invariants of API.md, checked: a fast wrong answer is no result.

Every order is final (the driver waits for that), stock is conserved for every sku and
nothing stays reserved; for a seeded sample of orders, money is conserved and exactly one
notification tells the outcome.
"""

import asyncio
import random
import time
from collections import Counter

from shoplab.bench.driver import Placement, Shop

SAMPLE = 20
NOTIFICATION_WAIT_SECONDS = 15.0
KIND = {"APPROVED": "ORDER_APPROVED", "REJECTED": "ORDER_REJECTED"}


async def check(shop: Shop, placements: list[Placement], stock: dict[str, int]) -> list[str]:
    """What is wrong; an empty list when every invariant held."""
    problems = await _stock(shop, placements, stock)
    sample = random.Random(len(placements)).sample(placements, min(SAMPLE, len(placements)))
    for placement in sample:
        problems += await _money(shop, placement)
        problems += await _notification(shop, placement)
    return problems


async def _stock(shop: Shop, placements: list[Placement], stock: dict[str, int]) -> list[str]:
    taken: Counter[str] = Counter()
    for placement in placements:
        if placement.order["status"] == "APPROVED":
            for line in placement.order["items"]:
                taken[line["sku"]] += line["quantity"]
    problems = []
    for sku, initial in stock.items():
        status, body = await shop.json("GET", f"/api/admin/inventory/{sku}", shop.admin)
        expected = initial - taken[sku]
        if status != 200 or body["on_hand"] != expected or body["reserved"] != 0:
            problems.append(f"stock of {sku}: {body}, expected on_hand {expected}, reserved 0")
    return problems


async def _money(shop: Shop, placement: Placement) -> list[str]:
    order = placement.order
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
        if kinds == [KIND[placement.order["status"]]]:
            return []
        if len(kinds) > 1 or time.monotonic() > deadline:
            return [f"order {placement.order_id} ({placement.order['status']}) notified {kinds}"]
        await asyncio.sleep(0.1)
