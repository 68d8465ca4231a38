"""The benchmark's client: customers placing the planned orders through the public API.

Two phases, each over the same seeded plan:

- **throughput**: a closed loop, ``concurrency`` placements in flight and at most
  ``backlog`` orders placed but not yet final. (Without that bound, placing faster than
  the system settles grows a queue until the saga's step deadlines pass and its retries
  add to the load: a benchmark would measure that collapse, not the pace.) *Settled orders
  per second* is the orders divided by the time from the first placement to the last
  final status the orders owner wrote (``updated_at``).
- **light load**: an open loop at a tenth of that rate, where the *time to final status*
  says how long one order takes when nothing queues.

The time to final status of an order is its ``updated_at`` (written by the orders owner
with the final status) minus the moment the client sent the placement, so it does not
depend on how often the client looks.

A placement that gets a 429, a 5xx or a broken connection is counted as an error and
sent again with the same ``Idempotency-Key``, so no retry creates a second order.
"""

import asyncio
import itertools
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from shoplab.bench.workload import PlannedOrder, Workload

FINAL = frozenset({"APPROVED", "REJECTED"})
ADMIN_EMAIL = "admin@shoplab.local"
PASSWORD = "bench-password-1"
SETUP_CONCURRENCY = 8
SETTLE_TIMEOUT_SECONDS = 120.0
MAX_ATTEMPTS = 20
POLL_SECONDS = 0.005
WATCHED = 8
"""The oldest unsettled orders read at once while placing."""


class BenchFailed(Exception):
    """The system did not do what the workload needs (an order never settled, say)."""


@dataclass
class Placement:
    """One planned order and what became of it."""

    planned: PlannedOrder
    sent_at: float = 0.0
    """Wall-clock time of the first send (comparable with the server's timestamps)."""
    latency: float = 0.0
    order_id: str = ""
    order: dict[str, Any] = field(default_factory=dict)

    @property
    def final_after(self) -> float:
        """Seconds from sending the placement to the final status being written."""
        return datetime.fromisoformat(self.order["updated_at"]).timestamp() - self.sent_at


@dataclass
class Shop:
    """A signed-in client of one running system."""

    http: aiohttp.ClientSession
    url: str
    admin: dict[str, str]
    customers: list[dict[str, str]]
    errors: Counter[str] = field(default_factory=Counter)

    async def json(
        self, method: str, path: str, headers: dict[str, str], body: object = None
    ) -> tuple[int, Any]:
        async with self.http.request(method, self.url + path, headers=headers, json=body) as r:
            return r.status, await r.json(content_type=None)


async def sign_in(
    http: aiohttp.ClientSession, url: str, email: str, password: str
) -> dict[str, str]:
    async with http.post(f"{url}/api/auth/token", json={"email": email, "password": password}) as r:
        if r.status != 200:
            raise BenchFailed(f"sign-in of {email} answered {r.status}: {await r.text()}")
        token = (await r.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def open_shop(
    http: aiohttp.ClientSession, url: str, admin_password: str, customers: int
) -> Shop:
    """Register and sign in the workload's customers (a few at a time, as people do)."""
    admin = await sign_in(http, url, ADMIN_EMAIL, admin_password)
    run = uuid.uuid4().hex[:8]
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def customer(index: int) -> dict[str, str]:
        email = f"bench-{run}-{index}@example.com"
        body = {"email": email, "password": PASSWORD, "name": f"Bench customer {index}"}
        async with gate:
            async with http.post(f"{url}/api/auth/register", json=body) as answer:
                if answer.status != 201:
                    raise BenchFailed(f"registration answered {answer.status}")
            return await sign_in(http, url, email, PASSWORD)

    signed_in = await asyncio.gather(*(customer(i) for i in range(customers)))
    return Shop(http, url, admin, list(signed_in))


async def catalog_skus(shop: Shop) -> list[str]:
    status, body = await shop.json("GET", "/api/products", {})
    if status != 200:
        raise BenchFailed(f"GET /api/products answered {status}")
    return [item["sku"] for item in body["items"]]


async def stock_up(shop: Shop, stock: dict[str, int]) -> None:
    """Set each sku's stock as the plan says, and check it took."""
    for sku, on_hand in stock.items():
        path = f"/api/admin/inventory/{sku}"
        status, body = await shop.json("PUT", path, shop.admin, {"on_hand": on_hand})
        if status != 200 or body["available"] != on_hand:
            raise BenchFailed(f"PUT {path} answered {status}: {body}")


async def place(shop: Shop, placement: Placement) -> None:
    """Send one placement until it is accepted; every refusal on the way is an error."""
    headers = {**shop.customers[placement.planned.customer], "Idempotency-Key": str(uuid.uuid4())}
    placement.sent_at = time.time()
    started = time.perf_counter()
    for _ in range(MAX_ATTEMPTS):
        try:
            status, body = await shop.json("POST", "/api/orders", headers, placement.planned.body())
        except aiohttp.ClientError as error:
            shop.errors[type(error).__name__] += 1
            await asyncio.sleep(0.05)
            continue
        if status == 202:
            placement.latency = time.perf_counter() - started
            placement.order_id = body["order_id"]
            return
        shop.errors[str(status)] += 1
        if status < 500 and status != 429:
            raise BenchFailed(f"a placement answered {status}: {body}")
        await asyncio.sleep(0.05)
    raise BenchFailed(f"a placement was refused {MAX_ATTEMPTS} times: {dict(shop.errors)}")


async def closed_loop(shop: Shop, orders: list[Placement], concurrency: int, backlog: int) -> float:
    """Place the orders ``concurrency`` at a time, with at most ``backlog`` not yet final;
    returns the wall-clock start.

    A watcher reads the oldest unsettled orders (a few at a time) and makes room as they
    settle: about one read per order, where each customer polling its own would add
    several, and load the system it measures.
    """
    queue: asyncio.Queue[Placement] = asyncio.Queue()
    for placement in orders:
        queue.put_nowait(placement)
    room = asyncio.Semaphore(backlog)
    unsettled: deque[Placement] = deque()
    placed = asyncio.Event()

    async def customer() -> None:
        while not queue.empty():
            placement = queue.get_nowait()
            await room.acquire()
            await place(shop, placement)
            unsettled.append(placement)
            placed.set()

    async def watcher() -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        settled = 0
        while settled < len(orders):
            if not unsettled:
                placed.clear()
                await placed.wait()
                continue
            oldest = list(itertools.islice(unsettled, WATCHED))
            await asyncio.gather(*(_read_order(shop, p) for p in oldest))
            done = [p for p in oldest if p.order.get("status") in FINAL]
            for placement in done:
                unsettled.remove(placement)
                room.release()
            settled += len(done)
            if done:
                deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
            else:
                await _pause_or_fail(deadline, oldest[0])
                await asyncio.sleep(POLL_SECONDS)

    began = time.time()
    await asyncio.gather(watcher(), *(customer() for _ in range(concurrency)))
    return began


async def open_loop(shop: Shop, orders: list[Placement], rate: float) -> None:
    """Send one placement every ``1/rate`` seconds, whatever the previous ones are doing."""
    began = time.perf_counter()
    tasks = []
    for index, placement in enumerate(orders):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(place(shop, placement)))
    await asyncio.gather(*tasks)


async def settle(shop: Shop, orders: list[Placement], concurrency: int) -> None:
    """Wait until every order is final, then read them all.

    Only the last order placed is watched while the system catches up, so that waiting
    adds almost no load; then every order is read once (again for any still pending).
    """
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    pending = list(orders)
    await _read_order(shop, pending[-1])
    while pending[-1].order.get("status") not in FINAL:
        await _pause_or_fail(deadline, pending[-1])
        await asyncio.sleep(POLL_SECONDS)
        await _read_order(shop, pending[-1])
    gate = asyncio.Semaphore(concurrency)

    async def read(placement: Placement) -> None:
        async with gate:
            await _read_order(shop, placement)

    while pending:
        await asyncio.gather(*(read(p) for p in pending))
        pending = [p for p in pending if p.order.get("status") not in FINAL]
        if pending:
            await _pause_or_fail(deadline, pending[0])
            await asyncio.sleep(POLL_SECONDS)


async def _pause_or_fail(deadline: float, placement: Placement) -> None:
    if time.monotonic() > deadline:
        raise BenchFailed(f"order {placement.order_id} did not settle: {placement.order}")


async def _read_order(shop: Shop, placement: Placement) -> None:
    headers = shop.customers[placement.planned.customer]
    status, body = await shop.json("GET", f"/api/orders/{placement.order_id}", headers)
    if status == 200:
        placement.order = body


def placements(workload: Workload) -> list[Placement]:
    return [Placement(planned) for planned in workload.orders]
