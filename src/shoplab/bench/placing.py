"""Placing orders: each with its own ``Idempotency-Key``, refusals counted and (usually) retried.

A ``429`` or a ``5xx`` is a refusal: it is counted by status, with whether it said when to
come back (``Retry-After``). The same request (the same key, so no second order) is sent
again after ``Retry-After`` (or a short pause). In the overload phase a ``429`` or ``503`` is
not: those placements are the excess the system turned away.
"""

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from shoplab.bench.client import Answer, Client, ProtocolError, prepare
from shoplab.bench.settlement import FINAL, Ledger, Placement, wall_time
from shoplab.bench.workload import PlannedOrder

PLACE_PATH = "/api/orders"
GIVE_UP_SECONDS = 300.0
"""A placement still unanswered after this long stops the run: the system is not settling."""
RETRY_PAUSE_SECONDS = 0.05
"""The pause before sending again when the refusal did not say how long to wait."""
REFUSALS = frozenset({429, 503})


class PlacementFailed(Exception):
    """A placement was refused for a reason that retrying cannot fix (a 4xx), or too often."""


@dataclass
class Refusals:
    """What the system turned away, by status, and whether it said when to come back."""

    by_status: Counter[str] = field(default_factory=Counter)
    with_retry_after: int = 0
    without_retry_after: int = 0

    def count(self, status: str, answer: Answer | None) -> None:
        self.by_status[status] += 1
        if answer is not None and answer.status in REFUSALS:
            if answer.retry_after is None:
                self.without_retry_after += 1
            else:
                self.with_retry_after += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "by_status": dict(sorted(self.by_status.items())),
            "with_retry_after": self.with_retry_after,
            "without_retry_after": self.without_retry_after,
        }


class Placer:
    """Sends the planned orders as the customers they name, through the cheap client."""

    def __init__(
        self, client: Client, authorizations: list[str], ledger: Ledger, path: str = PLACE_PATH
    ) -> None:
        self._client, self._authorizations, self.ledger = client, authorizations, ledger
        self._path = path
        self.refusals = Refusals()

    def request(self, planned: PlannedOrder, key: str) -> bytes:
        headers = {
            "Authorization": self._authorizations[planned.customer],
            "Idempotency-Key": key,
            "Content-Type": "application/json",
        }
        body = orjson.dumps(planned.body())
        return prepare("POST", self._path, self._client.authority, headers, body)

    async def place(self, planned: PlannedOrder, *, retry: bool = True) -> Placement | None:
        """Place one order; None when it was refused (429, 503) and ``retry`` is off.

        Any other failure (another 5xx, a broken connection) may have created the order, so
        it is always sent again with the same key until answered: an order the ledger did
        not know of would break the stock invariant for no fault of the system's.
        """
        placement = Placement(planned, uuid.uuid4().hex)
        request = self.request(planned, placement.key)
        placement.sent_at = time.time()
        started = time.perf_counter()
        while time.perf_counter() - started < GIVE_UP_SECONDS:
            answer: Answer | None = None
            try:
                answer = await self._client.send(request)
            except (OSError, ProtocolError) as error:
                self.refusals.count(type(error).__name__, None)
            else:
                if answer.status == 202:
                    placement.latency = time.perf_counter() - started
                    placement.answered_at = time.time()
                    self._accepted(placement, answer.body)
                    return placement
                self.refusals.count(str(answer.status), answer)
                if answer.status < 500 and answer.status != 429:
                    raise PlacementFailed(f"a placement answered {answer.status}: {answer.body!r}")
                if not retry and answer.status in REFUSALS:
                    return None
            pause = answer.retry_after if answer and answer.retry_after else RETRY_PAUSE_SECONDS
            await asyncio.sleep(pause)
        raise PlacementFailed(f"a placement was not answered within {GIVE_UP_SECONDS:.0f} s")

    def _accepted(self, placement: Placement, body: bytes) -> None:
        accepted = orjson.loads(body)
        placement.order_id = accepted["order_id"]
        placement.waiter = asyncio.get_running_loop().create_future()
        self.ledger.placed(placement)
        if accepted.get("status") in FINAL:  # the monolith settles in the placement
            final_at = wall_time(accepted.get("updated_at"))
            self.ledger.settle(placement.order_id, accepted["status"], final_at)


async def closed_loop(
    placer: Placer, orders: Iterator[PlannedOrder], concurrency: int, stop: asyncio.Event
) -> None:
    """``concurrency`` customers, each placing an order and waiting until it is final
    before the next: at most ``concurrency`` orders unanswered or not yet final.

    When ``stop`` is set each customer finishes the placement it is sending (so that every
    accepted order is in the ledger) and leaves without waiting for it to settle.
    """

    async def customer() -> None:
        while not stop.is_set():
            placement = await placer.place(next(orders))
            if stop.is_set():
                return
            if placement is not None and placement.waiter is not None:
                await placement.waiter

    async def stopper() -> None:
        await stop.wait()
        placer.ledger.wake_all()

    watch = asyncio.get_running_loop().create_task(stopper())
    try:
        await asyncio.gather(*(customer() for _ in range(concurrency)))
    finally:
        watch.cancel()


async def open_loop(
    placer: Placer, orders: Iterator[PlannedOrder], rate: float, count: int, *, retry: bool
) -> list[Placement | None]:
    """Send ``count`` placements, one every ``1/rate`` seconds, whatever the earlier ones do."""
    began = time.perf_counter()
    tasks: list[asyncio.Task[Placement | None]] = []
    for index in range(count):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(placer.place(next(orders), retry=retry))
        tasks.append(task)
    return list(await asyncio.gather(*tasks))
