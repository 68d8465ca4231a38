"""The benchmark's results as a learner reads them: one table per question, then the ratios."""

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shoplab.bench.chart import draw

RATIO_LABELS = {
    "settled_per_second": "settled orders/s",
    "placement_p50": "placement p50",
    "final_p50": "time to final p50 (light load)",
    "cpu_seconds": "CPU seconds for the same orders",
}


def print_results(results: dict[str, Any], console: Console) -> None:
    modes: dict[str, Any] = results["modes"]
    table = Table(title="shoplab bench: the same workload through each mode")
    table.add_column("")
    for mode in modes:
        table.add_column(mode, justify="right")
    for label, read in _ROWS:
        table.add_row(label, *(read(figures) for figures in modes.values()))
    console.print(table)
    for mode, figures in modes.items():
        processes = Table(title=f"{mode}: CPU and memory per process (throughput phase)")
        processes.add_column("process")
        processes.add_column("CPU s", justify="right")
        processes.add_column("peak RSS MB", justify="right")
        for process in figures["processes"]:
            processes.add_row(
                process["name"], f"{process['cpu_seconds']:.1f}", f"{process['peak_rss_mb']:.0f}"
            )
        console.print(processes)
    _print_baselines(results["baselines"], console)
    if results.get("ratios"):
        ratios = Table(title="microservices ÷ monolith")
        ratios.add_column("")
        ratios.add_column("ratio", justify="right")
        for key, value in results["ratios"].items():
            ratios.add_row(RATIO_LABELS.get(key, key), f"{value:.2f}x")
        console.print(ratios)


def _print_baselines(baselines: dict[str, Any], console: Console) -> None:
    table = Table(title="baselines")
    table.add_column("")
    table.add_column("measured", justify="right")
    jetstream = baselines.get("jetstream")
    if jetstream:
        table.add_row("JetStream publish, each ack awaited", _rate(jetstream, "publish_awaited"))
        table.add_row("JetStream publish, pipelined", _rate(jetstream, "publish_pipelined"))
        table.add_row("JetStream pull consume (batches)", _rate(jetstream, "consume"))
    gateway = baselines.get("gateway")
    if gateway:
        table.add_row("GET straight to the service, p50", f"{gateway['direct_p50_ms']:.2f} ms")
        table.add_row(
            "the same GET through the gateway, p50", f"{gateway['gateway_p50_ms']:.2f} ms"
        )
        table.add_row("added by the gateway, p50", f"{gateway['added_p50_ms']:.2f} ms")
    if jetstream or gateway:
        console.print(table)


def _rate(figures: dict[str, Any], name: str) -> str:
    return f"{figures[f'{name}_per_second']:,.0f} msg/s"


def _ms(figures: dict[str, Any], *keys: str) -> str:
    value: Any = figures
    for key in keys:
        value = value[key]
    return f"{value:,.1f} ms"


def _errors(figures: dict[str, Any]) -> str:
    errors = figures["errors"]
    return ", ".join(f"{kind}: {count}" for kind, count in errors.items()) or "none"


_ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("settled orders/s", lambda f: f"{f['settled_per_second']:,.1f}"),
    ("placement p50", lambda f: _ms(f, "placement_ms", "p50")),
    ("placement p95", lambda f: _ms(f, "placement_ms", "p95")),
    ("placement p99", lambda f: _ms(f, "placement_ms", "p99")),
    ("time to final p50", lambda f: _ms(f, "final_ms", "p50")),
    ("time to final p99", lambda f: _ms(f, "final_ms", "p99")),
    ("light load: rate", lambda f: f"{f['light_load']['rate_per_second']:,.1f}/s"),
    ("light load: time to final p50", lambda f: _ms(f, "light_load", "final_ms", "p50")),
    ("light load: time to final p99", lambda f: _ms(f, "light_load", "final_ms", "p99")),
    ("CPU seconds, all processes", lambda f: f"{f['cpu_seconds']:,.1f}"),
    ("CPU ms per order", lambda f: f"{1000 * f['cpu_seconds'] / f['orders']:,.1f}"),
    ("ready after", lambda f: f"{f['ready_seconds']:.1f} s"),
    ("memory, idle (sum of RSS)", lambda f: f"{f['idle_rss_mb']:,.0f} MB"),
    ("memory, idle (sum of PSS)", lambda f: f"{f['idle_pss_mb']:,.0f} MB"),
    ("outcomes", lambda f: ", ".join(f"{k}: {v}" for k, v in f["outcomes"].items())),
    ("errors (sent again)", _errors),
    ("invariants", lambda f: "held" if f["invariants"]["held"] else "BROKEN"),
]


def save(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``<time>.json`` and ``<time>.png`` to ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = datetime.fromisoformat(results["started_at"]).strftime("%Y%m%d-%H%M%S")
    data, chart = folder / f"{stem}.json", folder / f"{stem}.png"
    data.write_text(json.dumps(results, indent=2) + "\n")
    draw(results, chart)
    return data, chart
