"""``shoplab history``: how far the order history lags behind the event logs, and a rebuild."""

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shoplab.cli.options import AsJson, DataDir
from shoplab.cli.output import console, fail
from shoplab.operations.history_client import HistoryClient, HistoryUnavailable
from shoplab.runtime import state

history_app = typer.Typer(
    help="The order history: a read model built from the event logs (microservices mode).",
    no_args_is_help=True,
)


@history_app.command("status")
def history_status(
    data_dir: DataDir = Path(".shoplab"),
    as_json: AsJson = False,
) -> None:
    """How far the order history is behind each event log it reads."""
    answer = _on_history(data_dir, lambda client: client.status())
    _print_history(answer, as_json)


@history_app.command("rebuild")
def history_rebuild(
    data_dir: DataDir = Path(".shoplab"),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the replay.")] = 300,
    as_json: AsJson = False,
) -> None:
    """Empty the order history and replay the event logs from the start; wait until done."""
    started = time.monotonic()
    answer = _on_history(data_dir, lambda client: client.rebuild(wait=timeout))
    if not as_json:
        console.print(f"rebuilt in {time.monotonic() - started:.1f} s.")
    _print_history(answer, as_json)


def _on_history(
    data_dir: Path, call: Callable[[HistoryClient], Coroutine[Any, Any, dict[str, Any]]]
) -> dict[str, Any]:
    run = state.read(data_dir.resolve())
    if run is None:
        fail(f"shoplab is not running from {data_dir}: `shoplab up` starts it.")
    try:
        return asyncio.run(call(HistoryClient(run, data_dir.resolve())))
    except HistoryUnavailable as error:
        fail(str(error))


def _print_history(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer, indent=2))
        return
    table = Table("source", "position", "head", "messages behind", "seconds behind")
    for source, lag in answer["sources"].items():
        table.add_row(
            source,
            str(lag["position"]),
            str(lag["head"]),
            str(lag["messages_behind"]),
            f"{lag['seconds_behind']:.1f}",
        )
    console.print("caught up." if answer["caught_up"] else "behind.")
    console.print(table)
