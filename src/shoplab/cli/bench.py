"""``shoplab bench`` and ``shoplab load``: measuring the system, and loading it by hand.

The heavy imports (matplotlib, the runner) wait until a command runs, so that the rest
of the ``shoplab`` command stays quick to start.
"""

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

MODES = ("monolith", "microservices")
console = Console(highlight=False)
T = TypeVar("T")
WIDE = 120
"""Columns for the report even when printed to a file: its tables are wide."""


def bench_command(
    modes: Annotated[
        str, typer.Option(help="Comma-separated modes to run, each started fresh.")
    ] = ",".join(MODES),
    concurrencies: Annotated[
        str, typer.Option(help="Placements in flight at each throughput step, comma-separated.")
    ] = "16,64,256",
    window: Annotated[
        float | None,
        typer.Option(min=1.0, help="Seconds measured at each step (default 20; --quick 5)."),
    ] = None,
    warmup: Annotated[
        float | None,
        typer.Option(min=0.0, help="Seconds of warm-up before each step (default 5; --quick 2)."),
    ] = None,
    light_orders: Annotated[
        int | None,
        typer.Option(min=1, help="Orders placed at light load (default 200; --quick 50)."),
    ] = None,
    light_seconds: Annotated[
        float | None,
        typer.Option(min=0.5, help="Light load is sped up to end within this (default 30 s)."),
    ] = None,
    overload_seconds: Annotated[
        float | None,
        typer.Option(min=0.5, help="Seconds of 4x the knee's rate (default 10; --quick 5)."),
    ] = None,
    idle_seconds: Annotated[
        float | None,
        typer.Option(
            min=0.5,
            help="Seconds of rest before idle memory, and of idle CPU (default 5; --quick 3).",
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Shorter steps: about three minutes on two cores.")
    ] = False,
    fsync: Annotated[
        bool, typer.Option("--fsync-always", help="Run the modes with --fsync always.")
    ] = False,
    baselines: Annotated[
        bool, typer.Option(help="Measure raw JetStream and the gateway's added latency too.")
    ] = True,
    floor: Annotated[
        bool, typer.Option(help="Measure the floor: the saga's graph with no chassis.")
    ] = True,
    out: Annotated[Path, typer.Option(help="Where the JSON and the chart go.")] = Path(
        "bench/results"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Measure each mode and the floor side by side: throughput by concurrency and its knee,
    light load, the overload point, idle CPU and memory; print them beside the targets."""
    from shoplab.bench.driver import BenchFailed
    from shoplab.bench.floor_system import FloorFailed
    from shoplab.bench.placing import PlacementFailed
    from shoplab.bench.report import print_results, save
    from shoplab.bench.runner import BenchSettings, run
    from shoplab.bench.system import StartFailed

    chosen = tuple(mode.strip() for mode in modes.split(",") if mode.strip())
    unknown = set(chosen) - set(MODES)
    if unknown or not chosen:
        raise typer.BadParameter(f"choose among {', '.join(MODES)}", param_hint="--modes")
    try:
        steps = tuple(sorted({int(c) for c in concurrencies.split(",") if c.strip()}))
    except ValueError:
        raise typer.BadParameter("integers, like 16,64,256", param_hint="--concurrencies") from None
    if not steps or min(steps) < 1:
        raise typer.BadParameter("at least one step of 1 or more", param_hint="--concurrencies")
    base = BenchSettings.quick() if quick else BenchSettings()
    settings = replace(
        base,
        modes=chosen,
        concurrencies=steps,
        window_seconds=window or base.window_seconds,
        warmup_seconds=base.warmup_seconds if warmup is None else warmup,
        light_orders=light_orders or base.light_orders,
        light_max_seconds=light_seconds or base.light_max_seconds,
        overload_seconds=overload_seconds or base.overload_seconds,
        idle_seconds=idle_seconds or base.idle_seconds,
        fsync=fsync,
        baselines=baselines,
        floor=floor,
    )

    def progress(message: str) -> None:
        if not as_json:
            console.print(f"[dim]{message}[/dim]")

    try:
        results = _event_loop_runner()(run(settings, progress))
    except (BenchFailed, StartFailed, FloorFailed, PlacementFailed) as error:
        console.print(f"[red]the benchmark failed:[/red] {error}")
        raise typer.Exit(1) from None
    data, chart = save(results, out)
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print_results(results, Console(highlight=False, width=max(console.width, WIDE)))
        console.print(f"results: {data}\nchart:   {chart}")
    broken = [
        mode for mode, figures in results["modes"].items() if not figures["invariants"]["held"]
    ]
    if broken:
        console.print(f"[red]invariants broken in {', '.join(broken)}[/red]")
        raise typer.Exit(1)


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, T]], T]:
    """uvloop where it is installed: the client's CPU per request is part of the figures."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def load_command(
    context: typer.Context,
    url: Annotated[str, typer.Option(help="The running system's public URL.")] = (
        "http://127.0.0.1:8080"
    ),
    users: Annotated[int, typer.Option("--users", "-u", min=1, help="Customers to simulate.")] = 10,
    spawn_rate: Annotated[
        float, typer.Option("--spawn-rate", "-r", min=0.01, help="Customers started per second.")
    ] = 2.0,
    run_time: Annotated[
        str | None,
        typer.Option("--run-time", "-t", help="Stop after this long (30s, 5m); default: Ctrl-C."),
    ] = None,
    headless: Annotated[
        bool, typer.Option(help="No web UI: print the stats here (the UI: http://127.0.0.1:8089).")
    ] = False,
) -> None:
    """Load a running system with Locust: fresh customers placing the bench's orders.

    Other options go to Locust as they are (--csv results, --seed 7). Raise the system's
    rate limits first: see docs/performance.md.
    """
    from shoplab.bench.load import LoadUnavailable, run_load

    try:
        code = run_load(url, users, spawn_rate, run_time, headless, list(context.args))
    except LoadUnavailable as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    raise typer.Exit(code)
