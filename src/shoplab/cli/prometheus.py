"""``shoplab prometheus-config``: a scrape configuration for the running system."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shoplab.cli.options import DataDir
from shoplab.operations.prometheus import render, scrape_config
from shoplab.runtime import state

console = Console(stderr=True)


def prometheus_config_command(
    data_dir: DataDir = Path(".shoplab"),
    interval: Annotated[
        int, typer.Option("--interval", min=1, help="Seconds between two scrapes.")
    ] = 5,
) -> None:
    """Print a Prometheus configuration that scrapes every process of the running system."""
    run = state.read(data_dir.resolve())
    if run is None:
        console.print(f"[red]shoplab is not running from {data_dir}: `shoplab up` starts it.[/red]")
        raise typer.Exit(1)
    print(render(scrape_config(run, interval)), end="")
