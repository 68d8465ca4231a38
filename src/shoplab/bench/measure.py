"""The measured phases: the throughput sweep, light load, and the overload point.

- **throughput** at each concurrency: a closed loop of that many customers, a warm-up, then
  a steady window; what counts is the orders whose final status was seen inside the window,
  and the CPU every process (and the client) spent in it;
- **light load**: an open loop far below the knee, for what one order costs when nothing
  queues;
- **overload**: an open loop offering four times the knee's rate, refusals not retried: how
  much still settles, and how the excess is turned away.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from shoplab.bench.placing import PlacementFailed, Placer, closed_loop, open_loop
from shoplab.bench.resources import ProcessUse, ResourceMeter, own_cpu_seconds
from shoplab.bench.settlement import Placement
from shoplab.bench.stats import knee, percentiles
from shoplab.bench.workload import PlannedOrder

DRAIN_TIMEOUT_SECONDS = 180.0
FIRST_SETTLEMENT_SECONDS = 60.0
"""How long a warm-up may wait for the run's first order to settle (a cold system's first
connections, channels and consumers) before the run is given up."""
OVERLOAD_FACTOR = 4.0


@dataclass
class Target:
    """What is driven: how to place, what to place, and whose CPU to read."""

    placer: Placer
    orders: Iterator[PlannedOrder]
    pids: Callable[[], dict[str, int]]


@dataclass
class Window:
    """A metered span of wall-clock time, and what was spent in it."""

    start: float
    end: float
    processes: list[ProcessUse]
    client_cpu_seconds: float
    refusals: dict[str, int]

    @property
    def seconds(self) -> float:
        return self.end - self.start


class Metered:
    """Reads every process's CPU, the client's own, and the refusals, over one window."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._meter = ResourceMeter(target.pids)

    def begin(self) -> None:
        self._meter.start()
        self._client = own_cpu_seconds()
        self._refused = Counter(self._target.placer.refusals.by_status)
        self._start = time.time()

    async def end(self) -> Window:
        end = time.time()
        client = own_cpu_seconds() - self._client
        processes = await self._meter.stop()
        refused = Counter(self._target.placer.refusals.by_status)
        refused.subtract(self._refused)
        return Window(self._start, end, processes, round(client, 3), +refused)


async def step(target: Target, concurrency: int, warmup: float, seconds: float) -> Window:
    """One closed-loop step: warm up, then meter a steady window.

    The warm-up lasts ``warmup`` seconds and, at least, until the run's first order has
    settled: a window must measure a system that works end to end, not its first
    connections being made.
    """
    stop = asyncio.Event()
    loop = asyncio.create_task(closed_loop(target.placer, target.orders, concurrency, stop))
    await asyncio.sleep(warmup)
    try:
        async with asyncio.timeout(FIRST_SETTLEMENT_SECONDS):
            await target.placer.ledger.first_settled.wait()
    except TimeoutError:
        stop.set()
        await loop
        raise PlacementFailed(
            f"no order settled within {FIRST_SETTLEMENT_SECONDS:.0f} s of warm-up"
        ) from None
    metered = Metered(target)
    metered.begin()
    await asyncio.sleep(seconds)
    window = await metered.end()
    stop.set()
    await loop
    return window


def summarize(window: Window, placements: list[Placement]) -> dict[str, Any]:
    """The figures of one window: what settled in it, and what that cost."""
    settled = [p for p in placements if p.status and window.start <= p.seen_at < window.end]
    answered = [p for p in placements if window.start <= p.answered_at < window.end]
    cpu = sum(use.cpu_seconds for use in window.processes)
    count = max(len(settled), 1)
    return {
        "seconds": round(window.seconds, 2),
        "settled": len(settled),
        "settled_per_second": round(len(settled) / window.seconds, 1),
        "placed_per_second": round(len(answered) / window.seconds, 1),
        "placement_ms": percentiles([p.latency for p in answered], (50, 99)),
        "final_ms": percentiles([p.final_after for p in settled], (50, 99)),
        "processes": [asdict(use) for use in window.processes],
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_order": round(1000 * cpu / count, 2),
        "client_cpu_seconds": window.client_cpu_seconds,
        "client_cpu_share": round(window.client_cpu_seconds / cpu, 3) if cpu else None,
        "refusals": dict(window.refusals),
    }


async def sweep(
    target: Target,
    concurrencies: tuple[int, ...],
    warmup: float,
    seconds: float,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Every concurrency in turn, then the knee; returns once every order settled."""
    windows: list[tuple[int, Window]] = []
    for concurrency in concurrencies:
        progress(f"  {concurrency} in flight: {warmup:.0f} s warm-up, {seconds:.0f} s measured")
        windows.append((concurrency, await step(target, concurrency, warmup, seconds)))
    await _drain(target)
    placements = list(target.placer.ledger.placements.values())
    points = [{"concurrency": c, **summarize(w, placements)} for c, w in windows]
    at = knee([(p["concurrency"], p["settled_per_second"]) for p in points])
    peak = max(p["settled_per_second"] for p in points)
    progress(
        "  settled/s by concurrency: "
        + ", ".join(f"{p['concurrency']}: {p['settled_per_second']:.0f}" for p in points)
    )
    return {"points": points, "knee": at, "peak_settled_per_second": peak}


async def light_load(
    target: Target, rate: float, count: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    """``count`` orders at ``rate`` a second, each retried until accepted; all settled."""
    progress(f"  light load: {count} orders at {rate:.1f}/s")
    sent = await open_loop(target.placer, target.orders, rate, count, retry=True)
    await _drain(target)
    placed = [p for p in sent if p is not None]
    return {
        "rate_per_second": round(rate, 1),
        "orders": len(placed),
        "placement_ms": percentiles([p.latency for p in placed], (50, 99)),
        "final_ms": percentiles([p.final_after for p in placed], (50, 99)),
    }


async def overload(
    target: Target,
    knee_rate: float,
    peak: float,
    seconds: float,
    ramp: float,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Offer ``OVERLOAD_FACTOR`` times the knee's rate for ``ramp + seconds``; meter the
    last ``seconds``. Refused placements are not sent again: they are the excess."""
    rate = OVERLOAD_FACTOR * knee_rate
    count = max(1, int(rate * (ramp + seconds)))
    progress(f"  overload: {count} orders offered at {rate:.0f}/s, refusals not retried")
    refusals = target.placer.refusals
    with_before, without_before = refusals.with_retry_after, refusals.without_retry_after
    sending = asyncio.create_task(open_loop(target.placer, target.orders, rate, count, retry=False))
    await asyncio.sleep(ramp)
    metered = Metered(target)
    metered.begin()
    await asyncio.sleep(seconds)
    window = await metered.end()
    sent = await sending
    drained = await _drain(target)
    figures = summarize(window, [p for p in sent if p is not None])
    settled = figures["settled_per_second"]
    return {
        "offered_per_second": round(rate, 1),
        "offered": count,
        "accepted": sum(p is not None for p in sent),
        "refused": sum(p is None for p in sent),
        "refusals_with_retry_after": refusals.with_retry_after - with_before,
        "refusals_without_retry_after": refusals.without_retry_after - without_before,
        "ratio_to_peak": round(settled / peak, 2) if peak else None,
        "drained": drained,
        **figures,
    }


async def _drain(target: Target) -> bool:
    """Wait for every accepted order to be final (outside any metered window)."""
    return await target.placer.ledger.drained(DRAIN_TIMEOUT_SECONDS)
