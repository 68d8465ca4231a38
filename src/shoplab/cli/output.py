"""How the commands print: one console, and one way to stop with a reason."""

from typing import NoReturn

import typer
from rich.console import Console

console = Console()


def fail(message: str) -> NoReturn:
    """Print ``message`` in red and end the command with exit status 1."""
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def ports(named: dict[str, int]) -> str:
    """``http 8081, grpc 50051``."""
    return ", ".join(f"{name} {port}" for name, port in named.items())
