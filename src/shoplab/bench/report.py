"""The benchmark's results as a learner reads them: one table per question, then the verdicts."""

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shoplab.bench.chart import draw

RATIO_LABELS = {
    "settled_per_second": "settled orders/s, microservices ÷ monolith",
    "placement_p50": "placement p50 at the knee, microservices ÷ monolith",
    "final_p50": "time to final p50 at light load, microservices ÷ monolith",
    "cpu_ms_per_order": "CPU per order, microservices ÷ monolith",
    "microservices_over_floor": "settled orders/s, microservices ÷ floor",
    "monolith_over_floor": "settled orders/s, monolith ÷ floor",
    "microservices_cpu_over_floor": "CPU per order, microservices ÷ floor",
    "monolith_cpu_over_floor": "CPU per order, monolith ÷ floor",
}
Figures = dict[str, Any]


def print_results(results: dict[str, Any], console: Console) -> None:
    columns: dict[str, Figures] = dict(results["modes"])
    if results.get("floor"):
        columns["floor"] = results["floor"]
    table = Table(title="shoplab bench: each mode and the floor, measured in one run")
    table.add_column("")
    for name in columns:
        table.add_column(name, justify="right")
    for label, read in _ROWS:
        table.add_row(label, *(_safe(read, figures) for figures in columns.values()))
    console.print(table)
    for name, figures in columns.items():
        console.print(_sweep_table(name, figures))
        console.print(_process_table(name, figures))
    _print_baselines(results["baselines"], console)
    if results.get("ratios"):
        ratios = Table(title="ratios, each within this run")
        ratios.add_column("")
        ratios.add_column("ratio", justify="right")
        for key, value in results["ratios"].items():
            ratios.add_row(RATIO_LABELS.get(key, key), f"{value:.3g}")
        console.print(ratios)
    if results.get("targets"):
        console.print(_targets_table(results["targets"]))


def _sweep_table(name: str, figures: Figures) -> Table:
    knee = (figures.get("knee") or {}).get("concurrency")
    table = Table(
        title=f"{name}: throughput by n in flight (steady window; * the knee; "
        "placed and final: p50 / p99; CPU ms per order; client CPU ÷ system's)"
    )
    for header in ("n", "settled/s", "placed/s", "placed ms", "final ms", "CPU ms", "client"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("refusals")
    for point in figures.get("throughput") or []:
        mark = "*" if point["concurrency"] == knee else ""
        table.add_row(
            f"{point['concurrency']}{mark}",
            f"{point['settled_per_second']:,.1f}",
            f"{point['placed_per_second']:,.1f}",
            _pair(point["placement_ms"]),
            _pair(point["final_ms"]),
            f"{point['cpu_ms_per_order']:,.2f}",
            _share(point.get("client_cpu_share")),
            _counts(point.get("refusals") or {}),
        )
    return table


def _process_table(name: str, figures: Figures) -> Table:
    table = Table(title=f"{name}: CPU per process, at the knee and idle")
    table.add_column("process")
    table.add_column("CPU s at the knee", justify="right")
    table.add_column("peak RSS MB", justify="right")
    table.add_column("idle CPU ms/s", justify="right")
    idle = (figures.get("idle_cpu") or {}).get("ms_per_second") or {}
    for process in figures.get("processes") or []:
        table.add_row(
            process["name"],
            f"{process['cpu_seconds']:.2f}",
            f"{process['peak_rss_mb']:.0f}",
            f"{idle.get(process['name'], 0.0):.1f}",
        )
    return table


def _targets_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="targets (2 cores, make run's settings) beside what this run measured")
    for header in ("target", "mode", "goal", "measured", ""):
        table.add_column(header, justify="right" if header in ("goal", "measured") else "left")
    for row in rows:
        sign = "≥" if row["sense"] == "min" else "≤"
        verdict = {True: "met", False: "[red]missed[/red]", None: "not measured"}[row["met"]]
        measured = "—" if row["measured"] is None else f"{row['measured']:,.3g}"
        table.add_row(row["target"], row["mode"], f"{sign} {row['goal']:g}", measured, verdict)
    return table


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


def _rate(figures: Figures, name: str) -> str:
    return f"{figures[f'{name}_per_second']:,.0f} msg/s"


def _pair(values: dict[str, float]) -> str:
    """p50 / p99 in as few characters as their size allows."""
    return f"{_short(values['p50'])} / {_short(values['p99'])}"


def _short(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind}: {count}" for kind, count in counts.items() if count) or "none"


def _safe(read: Callable[[Figures], str], figures: Figures) -> str:
    """A row reads only what the column has: the floor has no light load nor overload."""
    try:
        return read(figures)
    except (KeyError, TypeError):
        return "—"


def _overload_refusals(f: Figures) -> str:
    over = f["overload"]
    refused = _counts(over["refusals"])
    return (
        f"{refused}; Retry-After on {over['refusals_with_retry_after']}, "
        f"not on {over['refusals_without_retry_after']}"
    )


_ROWS: list[tuple[str, Callable[[Figures], str]]] = [
    ("peak settled orders/s", lambda f: f"{f['settled_per_second']:,.1f}"),
    (
        "knee: in flight, settled/s",
        lambda f: f"{f['knee']['concurrency']}, {f['knee']['settled_per_second']:,.1f}",
    ),
    ("CPU ms per order (knee)", lambda f: f"{f['cpu_ms_per_order']:,.2f}"),
    ("placement p50 / p99 (knee)", lambda f: _pair(f["placement_ms"]) + " ms"),
    ("time to final p50 / p99 (knee)", lambda f: _pair(f["final_ms"]) + " ms"),
    ("client CPU ÷ system CPU (knee)", lambda f: _share(f["client_cpu_share"])),
    (
        "light load: rate, orders",
        lambda f: f"{f['light_load']['rate_per_second']:.1f}/s, {f['light_load']['orders']}",
    ),
    ("light load: time to final p50 / p99", lambda f: _pair(f["light_load"]["final_ms"]) + " ms"),
    ("light load: placement p50 / p99", lambda f: _pair(f["light_load"]["placement_ms"]) + " ms"),
    ("overload: offered/s", lambda f: f"{f['overload']['offered_per_second']:,.1f}"),
    ("overload: settled/s", lambda f: f"{f['overload']['settled_per_second']:,.1f}"),
    ("overload: settled ÷ peak", lambda f: f"{f['overload']['ratio_to_peak']:.2f}"),
    (
        "overload: accepted / offered",
        lambda f: f"{f['overload']['accepted']} / {f['overload']['offered']}",
    ),
    ("overload: refusals", _overload_refusals),
    ("idle CPU, all processes", lambda f: f"{f['idle_cpu']['total_ms_per_second']:,.1f} ms/s"),
    ("ready after", lambda f: f"{f['ready_seconds']:.1f} s"),
    ("memory, idle (sum of RSS)", lambda f: f"{f['idle_rss_mb']:,.0f} MB"),
    ("memory, idle (sum of PSS)", lambda f: f"{f['idle_pss_mb']:,.0f} MB"),
    ("orders placed in the run", lambda f: f"{f['orders']:,}"),
    ("outcomes", lambda f: ", ".join(f"{k}: {v}" for k, v in f["outcomes"].items())),
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
