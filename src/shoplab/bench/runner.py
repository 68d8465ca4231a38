"""One benchmark run: the baselines, each mode started fresh, and the floor, side by side.

The result is one JSON-ready dict (its shape is documented in docs/performance.md); the
CLI prints it as a table and writes it, with a chart, to ``bench/results/``.
"""

import asyncio
import os
import platform
import resource
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from shoplab.bench import driver, floor_system, invariants, system
from shoplab.bench.client import Client
from shoplab.bench.gateway import direct_headers, measure_gateway_overhead
from shoplab.bench.jetstream import measure_jetstream
from shoplab.bench.measure import Target, light_load, overload, sweep
from shoplab.bench.placing import Placer
from shoplab.bench.resources import idle_cpu, memory_now
from shoplab.bench.settlement import OUTCOMES, EventWatcher, Ledger, TableWatcher, Watcher
from shoplab.bench.verdicts import ratios, targets
from shoplab.bench.workload import SEED, endless, plan

LIGHT_LOAD_SHARE = 0.1
LIGHT_MAX_RATE = 50.0
STOCK_ORDERS = 2000
"""The scarce skus get stock for a share of what this many orders ask (see ``workload``)."""
FLOOR_SKUS = [f"FLOOR-{n:02}" for n in range(12)]
OPEN_FILES = 8192
"""Sockets the client may hold: an open loop past the knee keeps many answers waiting."""


@dataclass(frozen=True)
class BenchSettings:
    modes: tuple[str, ...] = ("monolith", "microservices")
    concurrencies: tuple[int, ...] = (16, 64, 256)
    warmup_seconds: float = 5.0
    window_seconds: float = 20.0
    light_orders: int = 200
    light_max_seconds: float = 30.0
    """Light load is sped up (above a tenth of the knee) to finish within this."""
    overload_seconds: float = 10.0
    overload_ramp_seconds: float = 2.0
    idle_seconds: float = 5.0
    """A fresh system is left alone this long before its memory is read, then as long
    again while its idle CPU is read."""
    customers: int = 32
    seed: int = SEED
    fsync: bool = False
    jetstream_messages: int = 20_000
    gateway_requests: int = 2000
    baselines: bool = True
    floor: bool = True
    extra_args: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def quick(cls, **overrides: Any) -> "BenchSettings":
        """A run that finishes in about three minutes on two cores."""
        values: dict[str, Any] = {
            "warmup_seconds": 2.0,
            "window_seconds": 5.0,
            "light_orders": 50,
            "light_max_seconds": 10.0,
            "overload_seconds": 5.0,
            "overload_ramp_seconds": 1.0,
            "idle_seconds": 3.0,
            "customers": 8,
            "jetstream_messages": 5000,
            "gateway_requests": 500,
        }
        return cls(**{**values, **overrides})


Progress = Callable[[str], None]


async def run(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    _allow_open_files()
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
        "floor": None,
        "baselines": {"jetstream": None, "gateway": None},
    }
    if settings.baselines:
        progress("baseline: raw JetStream with nats-py")
        jetstream = await measure_jetstream(
            messages=settings.jetstream_messages, fsync=settings.fsync
        )
        results["baselines"]["jetstream"] = asdict(jetstream)
    if settings.floor:
        progress("floor: the saga's graph on bare nats-py, sqlite3 and Starlette")
        results["floor"] = await bench_floor(settings, progress)
    for mode in settings.modes:
        progress(f"{mode}: starting")
        results["modes"][mode] = await bench_mode(mode, settings, progress, results["baselines"])
    results["ratios"] = ratios(results["modes"], results["floor"])
    results["targets"] = targets(results)
    return results


async def bench_mode(
    mode: str, settings: BenchSettings, progress: Progress, baselines: dict[str, Any]
) -> dict[str, Any]:
    running = await system.start(
        mode, fsync=settings.fsync, extra_args=settings.extra_args.get(mode, ())
    )
    try:
        idle = await _idle(running.pids, settings)
        progress(f"{mode}: ready in {running.ready_seconds:.1f} s; signing in customers")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            shop = await driver.open_shop(
                http, running.url, running.admin_password, settings.customers
            )
            skus = await driver.catalog_skus(shop)
            workload = plan(skus, orders=STOCK_ORDERS, customers=settings.customers)
            await driver.stock_up(shop, workload.stock)
            ledger = Ledger()
            watcher = _watcher(running, ledger)
            await watcher.start()
            address = urlsplit(running.url)
            client = Client(address.hostname or "127.0.0.1", address.port or 80)
            authorizations = [customer["Authorization"] for customer in shop.customers]
            orders = endless(skus, customers=settings.customers, seed=settings.seed)
            target = Target(Placer(client, authorizations, ledger), orders, running.pids)
            try:
                result = await _measure(mode, target, settings, progress)
            finally:
                client.close()
                await watcher.stop()
            progress(f"{mode}: checking the invariants")
            placements = list(ledger.placements.values())
            problems = await invariants.check(shop, placements, workload.stock)
            outcomes = Counter(p.status for p in placements)
            result |= {
                "ready_seconds": round(running.ready_seconds, 2),
                **idle,
                "orders": len(placements),
                "outcomes": dict(sorted(outcomes.items())),
                "invariants": {"held": not problems, "problems": problems[:20]},
            }
            if settings.baselines and mode == "microservices":
                progress(f"{mode}: gateway's added latency")
                baselines["gateway"] = await _gateway(shop, running, settings)
            return result
    finally:
        progress(f"{mode}: stopping")
        await _stop(running)


async def _measure(
    mode: str, target: Target, settings: BenchSettings, progress: Progress
) -> dict[str, Any]:
    progress(f"{mode}: throughput at {', '.join(map(str, settings.concurrencies))} in flight")
    throughput = await sweep(
        target,
        settings.concurrencies,
        settings.warmup_seconds,
        settings.window_seconds,
        progress,
    )
    at_knee = throughput["points"][throughput["knee"]]
    knee_rate = max(at_knee["settled_per_second"], 1.0)
    rate = min(
        LIGHT_MAX_RATE,
        max(knee_rate * LIGHT_LOAD_SHARE, settings.light_orders / settings.light_max_seconds),
    )
    light = await light_load(target, rate, settings.light_orders, progress)
    over = await overload(
        target,
        knee_rate,
        throughput["peak_settled_per_second"],
        settings.overload_seconds,
        settings.overload_ramp_seconds,
        progress,
    )
    return _throughput_figures(throughput) | {"light_load": light, "overload": over}


def _throughput_figures(throughput: dict[str, Any]) -> dict[str, Any]:
    """The sweep, and its knee's figures at the top level (the ones compared across modes)."""
    at_knee = throughput["points"][throughput["knee"]]
    return {
        "throughput": throughput["points"],
        "knee": {
            "concurrency": at_knee["concurrency"],
            "settled_per_second": at_knee["settled_per_second"],
        },
        "settled_per_second": throughput["peak_settled_per_second"],
        **{
            key: at_knee[key]
            for key in (
                "placement_ms",
                "final_ms",
                "processes",
                "cpu_seconds",
                "cpu_ms_per_order",
                "client_cpu_seconds",
                "client_cpu_share",
            )
        },
    }


async def bench_floor(settings: BenchSettings, progress: Progress) -> dict[str, Any]:
    """The floor, driven by the same client and watched the same way, at the same
    concurrencies."""
    async with floor_system.running(fsync=settings.fsync) as floor:
        idle = await _idle(floor.pids, settings)
        ledger = Ledger()
        watcher = EventWatcher(floor.nats_url, floor_system.OUTCOME_SUBJECTS, ledger)
        await watcher.start()
        address = urlsplit(floor.url)
        client = Client(address.hostname or "127.0.0.1", address.port or 80)
        placer = Placer(client, ["Bearer floor"] * settings.customers, ledger, path="/orders")
        orders = endless(FLOOR_SKUS, customers=settings.customers, seed=settings.seed)
        try:
            throughput = await sweep(
                Target(placer, orders, floor.pids),
                settings.concurrencies,
                settings.warmup_seconds,
                settings.window_seconds,
                progress,
            )
        finally:
            client.close()
            await watcher.stop()
        unsettled = len(ledger.unsettled())
        return _throughput_figures(throughput) | {
            "ready_seconds": round(floor.ready_seconds, 2),
            **idle,
            "orders": len(ledger.placements),
            "unsettled": unsettled,
        }


async def _idle(pids: Callable[[], dict[str, int]], settings: BenchSettings) -> dict[str, Any]:
    """Memory after a rest, then each process's CPU while still idle."""
    await asyncio.sleep(settings.idle_seconds)
    memory = memory_now(pids())
    cpu = await idle_cpu(pids, settings.idle_seconds)
    return {"idle_rss_mb": memory["rss_mb"], "idle_pss_mb": memory["pss_mb"], "idle_cpu": cpu}


def _watcher(running: system.RunningSystem, ledger: Ledger) -> Watcher:
    """The outcome events on the run's broker, or the monolith's table."""
    broker = running.broker_url()
    if running.mode == "monolith" or broker is None:
        return TableWatcher(Path(running.data_dir) / "shoplab.db", ledger)
    subjects = [f"shoplab.orders.events.{name}" for name in OUTCOMES]
    return EventWatcher(broker, subjects, ledger)


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


async def _stop(running: system.RunningSystem) -> None:
    await asyncio.to_thread(system.stop, running)


def _allow_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
