"""``shoplab trace``: an order's trace as a waterfall, read from the run's span files.

It needs neither a running system nor a collector: the data folder is enough, so it
also explains a run that has stopped or crashed. The rows on the slowest path carry a
marker as well as a colour, so the answer survives a terminal (or a pipe) without colour.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shoplab.cli.options import DataDir
from shoplab.operations.traces import (
    TRACES_FOLDER,
    Span,
    TraceSummary,
    critical_path,
    load_spans,
    slowest_order_traces,
    spans_of_traces_mentioning,
    summarize,
    to_json,
    trace_spans,
    traces_of_order,
    tree,
)

ON_PATH = "»"
"""Marks a row of the slowest path."""
OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
"""When one is set, the processes send their spans to that collector, not to files."""


def trace_command(
    order_id: Annotated[str | None, typer.Argument(help="The order whose trace to show.")] = None,
    data_dir: DataDir = Path(".shoplab"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    slowest: Annotated[
        int | None,
        typer.Option("--slowest", min=1, metavar="N", help="List the N slowest order traces."),
    ] = None,
    trace_id: Annotated[
        str | None,
        typer.Option("--trace-id", help="Show this trace (an order may have several)."),
    ] = None,
) -> None:
    """Show an order's trace as a waterfall: where its time went, and what held it up."""
    console = Console()  # made per call, so that its width follows COLUMNS at run time
    if order_id is None and trace_id is None and slowest is None:
        _fail(console, "give an order id (shoplab trace ORDER_ID) or --slowest N.")
    if slowest is not None and (order_id is not None or trace_id is not None):
        _fail(
            console,
            "--slowest lists the traces of every order: give it no order id nor --trace-id.",
        )
    folder = data_dir / TRACES_FOLDER
    if not any(folder.glob("*.jsonl*")):
        _not_found(console, f"no spans under {folder}: is shoplab running from this data folder?")
    if slowest is not None:
        _print_slowest(console, slowest_order_traces(load_spans(data_dir), slowest), as_json)
        return
    spans = spans_of_traces_mentioning(data_dir, str(order_id or trace_id))
    shown, others = _chosen_trace(console, spans, order_id, trace_id)
    if as_json:
        print(json.dumps(to_json(shown, spans), indent=2))
        return
    _print_waterfall(console, trace_spans(spans, shown))
    if order_id is not None and others:
        _print_others(console, order_id, [summarize(trace_spans(spans, t)) for t in others])


def _chosen_trace(
    console: Console, spans: list[Span], order_id: str | None, trace_id: str | None
) -> tuple[str, list[str]]:
    """The trace to show (the placement unless --trace-id says), and the order's others."""
    traces = traces_of_order(spans, order_id) if order_id is not None else []
    if trace_id is not None:
        if not trace_spans(spans, trace_id):
            _not_found(console, f"no span of trace {trace_id} yet.")
        return trace_id, [t for t in traces if t != trace_id]
    if not traces:
        _not_found(
            console, f"no trace of order {order_id} yet; spans are written about every second."
        )
    return traces[0], traces[1:]


def _print_waterfall(console: Console, trace: list[Span]) -> None:
    summary = summarize(trace)
    on_path = critical_path(trace)
    width = max(10, min(48, console.width - 100))
    console.print(
        Text(
            f"trace {summary.trace_id}   {_ms(summary.duration)} ms   "
            f"{summary.span_count} spans   services: {', '.join(summary.services)}",
            style="bold",
        )
    )
    # One line a span, or the bars stop lining up: only the operation gives way to a narrow
    # terminal, its names cut short with an ellipsis rather than wrapped.
    table = Table(box=box.SIMPLE_HEAD)
    for heading in ("", "service", "operation", "start ms", "ms", "status", "timeline"):
        table.add_column(heading, no_wrap=heading != "operation")
    for row in tree(trace):
        span, on = row.span, row.span.span_id in on_path
        name = Text("  " * row.depth + span.name, no_wrap=True, overflow="ellipsis")
        if row.parent_missing:
            name.append(" (parent not found)", style="dim")
        table.add_row(
            Text(ON_PATH if on else ""),
            Text(span.service),
            name,
            Text(_ms(span.start - summary.start), justify="right"),
            Text(_ms(span.duration), justify="right"),
            Text(span.status, style="bold red" if span.status == "ERROR" else ""),
            _bar(span, summary, width, on),
            style=("bold" if on else "") + (" red" if span.status == "ERROR" else ""),
        )
    console.print(table)
    console.print(
        Text(f"{ON_PATH} the slowest path: each step is the child whose work ended last.")
    )


def _bar(span: Span, summary: TraceSummary, width: int, on_path: bool) -> Text:
    """Where the span sits within the trace, on ``width`` characters for the whole trace."""
    total = summary.duration or timedelta(microseconds=1)
    left = min(width - 1, int((span.start - summary.start) / total * width))
    right = max(left + 1, round((span.end - summary.start) / total * width))
    style = "red" if span.status == "ERROR" else "yellow" if on_path else "cyan"
    return Text(" " * left + "█" * (right - left), style=style)


def _print_others(console: Console, order_id: str, others: list[TraceSummary]) -> None:
    console.print(f"order {order_id} has {len(others)} more trace(s), later requests on it:")
    for other in others:
        console.print(
            Text(
                f"  {other.trace_id}  {other.start.isoformat(timespec='seconds')}  "
                f"{other.root_name}  {_ms(other.duration)} ms"
            )
        )
    console.print(Text(f"see one with: shoplab trace {order_id} --trace-id TRACE"))


def _print_slowest(console: Console, found: list[TraceSummary], as_json: bool) -> None:
    if as_json:
        print(json.dumps([_summary_json(summary) for summary in found], indent=2))
        return
    if not found:
        console.print("no trace is about an order yet.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for ids in ("order id", "trace id"):  # folded, never cut: they are copied into commands
        table.add_column(ids, overflow="fold")
    for heading in ("ms", "spans", "services", "started at"):
        table.add_column(heading, no_wrap=heading != "services", overflow="fold")
    for summary in found:
        table.add_row(
            Text(summary.order_id or ""),
            Text(summary.trace_id),
            Text(_ms(summary.duration), justify="right"),
            str(summary.span_count),
            Text(", ".join(summary.services)),
            summary.start.isoformat(timespec="seconds"),
        )
    console.print(table)


def _summary_json(summary: TraceSummary) -> dict[str, Any]:
    return {
        "order_id": summary.order_id,
        "trace_id": summary.trace_id,
        "root": summary.root_name,
        "start": summary.start.isoformat(),
        "duration_ms": round(summary.duration / timedelta(milliseconds=1), 3),
        "span_count": summary.span_count,
        "services": list(summary.services),
    }


def _ms(duration: timedelta) -> str:
    return f"{duration / timedelta(milliseconds=1):.1f}"


def _not_found(console: Console, message: str) -> NoReturn:
    """Nothing to show: with a collector configured, the spans went there instead."""
    variable = next((v for v in OTLP_ENDPOINT_VARIABLES if os.environ.get(v)), None)
    if variable is not None:
        message += (
            f"\n{variable} is set ({os.environ[variable]}): the processes then send "
            "their spans to that collector instead of the data folder."
        )
    _fail(console, message)


def _fail(console: Console, message: str) -> NoReturn:
    console.print(Text(message, style="red"))
    raise typer.Exit(1)
