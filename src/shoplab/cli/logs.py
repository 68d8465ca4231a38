"""``shoplab logs``: the run's logs, every process merged in time order, filtered."""

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from shoplab.cli.options import DataDir
from shoplab.operations.logs import LogFilter, LogLine, follow, read_logs

console = Console(highlight=False)

_SHOWN_FIRST = ("time", "level", "event", "service", "instance", "logger", "exception")
_LEVEL_STYLES = {
    "debug": "dim",
    "warning": "yellow",
    "error": "bold red",
    "critical": "bold red",
    "exception": "bold red",
}
_SHORT_TRACE = 8


def logs_command(
    data_dir: DataDir = Path(".shoplab"),
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            metavar="SERVICE",
            help="A service (orders) or an instance (orders-2); repeatable.",
        ),
    ] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="Only lines of this order id (or its start).")
    ] = None,
    trace: Annotated[
        str | None, typer.Option("--trace", help="Only lines of this trace id (or its start).")
    ] = None,
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    tail: Annotated[
        int | None, typer.Option("--tail", min=0, help="Only the last N matching lines.")
    ] = None,
) -> None:
    """Show the logs of every process of the run, merged in time order."""
    directory = data_dir / "logs"
    if not directory.is_dir():
        console.print(f"[red]no logs in {directory}: `shoplab up` writes them there.[/red]")
        raise typer.Exit(1)
    line_filter = LogFilter(tuple(service or ()), order, trace)
    folder, lines = read_logs(directory, line_filter, tail, final=not follow_)
    _print(lines, as_json)
    if not follow_:
        return
    try:
        for batch in follow(folder, line_filter, should_stop=lambda: False):
            _print(batch, as_json)
    except KeyboardInterrupt:
        return


def _print(lines: Iterable[LogLine], as_json: bool) -> None:
    for line in lines:
        if as_json:
            print(json.dumps(line.as_record(), default=str))
        else:
            console.print(render(line), soft_wrap=True)
    sys.stdout.flush()


def render(line: LogLine) -> Text:
    """``03:20:01.123 orders-1 info order placed order_id=9b2c trace_id=4bf92f35``."""
    stamp = line.time.strftime("%H:%M:%S.%f")[:-3] if line.time else " " * 12
    text = Text.assemble((stamp, "dim"), " ", (line.process, "cyan"), " ")
    if line.record is None:
        text.append(line.text)
        return text
    level = str(line.record.get("level", ""))
    text.append(level, _LEVEL_STYLES.get(level.lower(), ""))
    text.append(" ")
    text.append(str(line.record.get("event", "")), "bold")
    for key, value in line.record.items():
        if key not in _SHOWN_FIRST:
            text.append(f" {key}={_value(key, value)}", "dim")
    if "exception" in line.record:
        text.append("\n" + str(line.record["exception"]), "red")
    return text


def _value(key: str, value: Any) -> str:
    if key == "trace_id" and isinstance(value, str):
        return value[:_SHORT_TRACE]
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"'=" for c in value):
        return value
    return json.dumps(value, default=str)
