"""The options several commands share, spelled once."""

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[Path, typer.Option("--data-dir", help="The run's data folder.")]
Broker = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="nats://HOST:PORT or amqp://USER:PASS@HOST:PORT/; default: the run's broker.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
