"""One benchmark run: the baselines, then each mode started fresh and driven by the workload.

The result is one JSON-ready dict (its shape is documented in docs/performance.md); the
CLI prints it as a table and writes it, with a chart, to ``bench/results/``.
"""

import asyncio
import math
import os
import platform
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from shoplab.bench import driver, invariants, system
from shoplab.bench.gateway import direct_headers, measure_gateway_overhead
from shoplab.bench.jetstream import measure_jetstream
from shoplab.bench.resources import ResourceMeter, memory_now, own_cpu
from shoplab.bench.workload import SEED, plan

IDLE_SECONDS = 3.0
"""How long a fresh system is left alone before its idle memory is read."""
LIGHT_LOAD_SHARE = 0.1
LIGHT_LOAD_ORDERS = 5
"""At least this many orders in the light-load phase."""


@dataclass(frozen=True)
class BenchSettings:
    modes: tuple[str, ...] = ("monolith", "microservices")
    orders: int = 1500
    concurrency: int = 16
    backlog: int | None = None
    """Orders placed and not yet final, at most (see ``driver.closed_loop``); by default
    as many as ``concurrency``."""
    customers: int = 32
    seed: int = SEED
    fsync: bool = False
    light_seconds: float = 8.0
    jetstream_messages: int = 20_000
    gateway_requests: int = 2000
    baselines: bool = True
    extra_args: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def quick(cls, **overrides: Any) -> "BenchSettings":
        """A run that finishes in well under two minutes on two cores."""
        values: dict[str, Any] = {
            "orders": 300,
            "customers": 8,
            "light_seconds": 3.0,
            "jetstream_messages": 5000,
            "gateway_requests": 500,
        }
        return cls(**{**values, **overrides})


Progress = Callable[[str], None]


async def run(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["shoplab", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {k: v for k, v in asdict(settings).items() if k != "extra_args"},
        "modes": {},
        "baselines": {"jetstream": None, "gateway": None},
    }
    if settings.baselines:
        progress("baseline: raw JetStream with nats-py")
        jetstream = await measure_jetstream(
            messages=settings.jetstream_messages, fsync=settings.fsync
        )
        results["baselines"]["jetstream"] = asdict(jetstream)
    for mode in settings.modes:
        progress(f"{mode}: starting")
        results["modes"][mode] = await bench_mode(mode, settings, progress, results["baselines"])
    results["ratios"] = ratios(results["modes"])
    return results


async def bench_mode(
    mode: str, settings: BenchSettings, progress: Progress, baselines: dict[str, Any]
) -> dict[str, Any]:
    running = await system.start(
        mode, fsync=settings.fsync, extra_args=settings.extra_args.get(mode, ())
    )
    try:
        await asyncio.sleep(IDLE_SECONDS)
        idle = memory_now(running.pids())
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            progress(f"{mode}: ready in {running.ready_seconds:.1f} s; signing in customers")
            shop = await driver.open_shop(
                http, running.url, running.admin_password, settings.customers
            )
            skus = await driver.catalog_skus(shop)
            workload = plan(skus, orders=settings.orders, customers=settings.customers)
            await driver.stock_up(shop, workload.stock)
            result = await _measure(shop, running, workload, settings, progress)
            result["ready_seconds"] = round(running.ready_seconds, 2)
            result["idle_rss_mb"] = idle["rss_mb"]
            result["idle_pss_mb"] = idle["pss_mb"]
            if settings.baselines and mode == "microservices":
                progress(f"{mode}: gateway's added latency")
                baselines["gateway"] = await _gateway(shop, running, settings)
            return result
    finally:
        progress(f"{mode}: stopping")
        await asyncio.to_thread(system.stop, running)


async def _measure(
    shop: driver.Shop,
    running: system.RunningSystem,
    workload: Any,
    settings: BenchSettings,
    progress: Progress,
) -> dict[str, Any]:
    heavy = driver.placements(workload)
    meter = ResourceMeter(running.pids)
    meter.start()
    progress(f"{running.mode}: {len(heavy)} orders, {settings.concurrency} in flight")
    with own_cpu() as client_cpu:
        backlog = settings.backlog or settings.concurrency
        began = await driver.closed_loop(shop, heavy, settings.concurrency, backlog)
        await driver.settle(shop, heavy, settings.concurrency)
        spent = client_cpu()
    processes = await meter.stop()
    last_final = max(p.sent_at + p.final_after for p in heavy)
    settled = len(heavy) / (last_final - began)
    rate = max(1.0, settled * LIGHT_LOAD_SHARE)
    count = max(LIGHT_LOAD_ORDERS, int(rate * settings.light_seconds))
    progress(f"{running.mode}: {settled:.0f} settled/s; light load at {rate:.0f}/s")
    light_plan = plan(
        list(workload.stock), orders=count, customers=settings.customers, seed=settings.seed + 1
    )
    light = driver.placements(light_plan)
    await driver.open_loop(shop, light, rate)
    await driver.settle(shop, light, settings.concurrency)
    progress(f"{running.mode}: checking the invariants")
    problems = await invariants.check(shop, heavy + light, workload.stock)
    outcomes = Counter(p.order["reason"] or p.order["status"] for p in heavy + light)
    return {
        "orders": len(heavy),
        "settled_per_second": round(settled, 1),
        "placement_ms": percentiles([p.latency for p in heavy], (50, 95, 99)),
        "final_ms": percentiles([p.final_after for p in heavy], (50, 99)),
        "light_load": {
            "rate_per_second": round(rate, 1),
            "orders": len(light),
            "placement_ms": percentiles([p.latency for p in light], (50, 95, 99)),
            "final_ms": percentiles([p.final_after for p in light], (50, 99)),
        },
        "outcomes": dict(sorted(outcomes.items())),
        "errors": dict(shop.errors),
        "processes": [asdict(use) for use in processes],
        "cpu_seconds": round(sum(use.cpu_seconds for use in processes), 2),
        "client_cpu_seconds": spent,
        "invariants": {"held": not problems, "problems": problems[:20]},
    }


async def _gateway(
    shop: driver.Shop, running: system.RunningSystem, settings: BenchSettings
) -> dict[str, Any]:
    """The same order read through the gateway and straight from the orders service."""
    customer = shop.customers[0]
    _, body = await shop.json("GET", "/api/orders", customer)
    order_id = body["items"][0]["order_id"]
    token = customer["Authorization"].removeprefix("Bearer ")
    overhead = await measure_gateway_overhead(
        running.url,
        f"http://127.0.0.1:{running.ports('orders-1')['http']}",
        path=f"/api/orders/{order_id}",
        gateway_headers=customer,
        service_headers=direct_headers(running.data_dir, token),
        requests=settings.gateway_requests,
    )
    return {
        "gateway_p50_ms": round(overhead.gateway.p50, 3),
        "direct_p50_ms": round(overhead.direct.p50, 3),
        "added_p50_ms": round(overhead.added_p50_ms, 3),
        **asdict(overhead),
    }


def percentiles(samples: list[float], ranks: tuple[int, ...]) -> dict[str, float]:
    """Nearest-rank percentiles of samples in seconds, in milliseconds."""
    ordered = sorted(samples)
    return {
        f"p{rank}": round(ordered[max(math.ceil(rank / 100 * len(ordered)) - 1, 0)] * 1000, 2)
        for rank in ranks
    }


def ratios(modes: dict[str, Any]) -> dict[str, float]:
    """Microservices over monolith, where both ran."""
    if not {"monolith", "microservices"} <= modes.keys():
        return {}
    micro, mono = modes["microservices"], modes["monolith"]
    return {
        "settled_per_second": round(micro["settled_per_second"] / mono["settled_per_second"], 2),
        "placement_p50": round(micro["placement_ms"]["p50"] / mono["placement_ms"]["p50"], 2),
        "final_p50": round(
            micro["light_load"]["final_ms"]["p50"] / mono["light_load"]["final_ms"]["p50"], 2
        ),
        "cpu_seconds": round(micro["cpu_seconds"] / mono["cpu_seconds"], 2),
    }
