"""``shoplab``: start, inspect and stop a local run."""

import asyncio
import json
import os
import signal
import socket
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shoplab.identity.bootstrap import ADMIN_PASSWORD_FILE
from shoplab.runtime import state
from shoplab.runtime.health import probe_all
from shoplab.runtime.plans import PLANS, RunOptions
from shoplab.runtime.supervisor import StartFailed, Supervisor

app = typer.Typer(
    help="shoplab: a runnable reference system for microservices.", no_args_is_help=True
)
console = Console()

DataDir = Annotated[Path, typer.Option("--data-dir", help="The run's data folder.")]


class Mode(StrEnum):
    monolith = "monolith"


@app.command()
def up(
    mode: Annotated[Mode, typer.Option(help="How to run the domain.")] = Mode.monolith,
    port: Annotated[int, typer.Option(help="The public HTTP port.")] = 8080,
    data_dir: DataDir = Path(".shoplab"),
    database_url: Annotated[
        str | None, typer.Option(help="postgresql://… to use a server instead of SQLite.")
    ] = None,
) -> None:
    """Start the system and keep it running until Ctrl-C or `shoplab down`."""
    data_dir = data_dir.resolve()
    if state.read(data_dir) is not None:
        _fail(f"shoplab is already running from {data_dir}; `shoplab down` stops it.")
    if not _port_free(port):
        _fail(f"port {port} is in use; choose another with --port.")
    data_dir.mkdir(parents=True, exist_ok=True)
    options = RunOptions(mode.value, port, data_dir, database_url)
    url = f"http://127.0.0.1:{port}"
    supervisor = Supervisor(mode.value, url, data_dir, PLANS[mode.value](options))
    raise typer.Exit(asyncio.run(_run(supervisor, url, data_dir)))


async def _run(supervisor: Supervisor, url: str, data_dir: Path) -> int:
    started = time.time()
    try:
        await supervisor.start(ready_timeout=60)
    except StartFailed as failure:
        console.print(f"[red]could not start:[/red] {failure}")
        console.print(_tail(failure.child.log_path))
        await supervisor.stop()
        return 1
    _print_started(supervisor, url, data_dir, started)
    await supervisor.run_until_stopped()
    console.print("stopped.")
    return 0


def _print_started(supervisor: Supervisor, url: str, data_dir: Path, started: float) -> None:
    table = Table("process", "pid", "ports", "log")
    for child in supervisor.children:
        ports = ", ".join(f"{k} {v}" for k, v in child.spec.ports.items())
        table.add_row(child.spec.name, str(child.pid), ports, str(child.log_path))
    console.print(table)
    console.print(f"shoplab ({supervisor.mode}) is ready at [bold]{url}[/bold]")
    console.print(f"API docs: {url}/api/docs    data folder: {data_dir}")
    password_file = data_dir / ADMIN_PASSWORD_FILE
    if password_file.exists() and password_file.stat().st_mtime >= started:
        password = password_file.read_text().strip()
        console.print(f"administrator: admin@shoplab.local / {password} (kept in {password_file})")
    console.print("Ctrl-C or `shoplab down` stops it.")


@app.command()
def status(
    data_dir: DataDir = Path(".shoplab"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the processes of the running system and their health."""
    run = state.read(data_dir.resolve())
    if run is None:
        if as_json:
            print(json.dumps({"running": False, "processes": []}))
        else:
            console.print("shoplab is not running.")
        raise typer.Exit(1)
    health = asyncio.run(probe_all(run))
    processes = [
        {
            "name": p.name,
            "pid": p.pid,
            "ports": p.ports,
            "health": health[p.name],
            "restarts": p.restarts,
        }
        for p in run.processes
    ]
    if as_json:
        report = {
            "running": True,
            "mode": run.mode,
            "url": run.url,
            "data_dir": run.data_dir,
            "supervisor_pid": run.supervisor_pid,
            "processes": processes,
        }
        print(json.dumps(report, indent=2))
        return
    table = Table("process", "pid", "ports", "health", "restarts")
    for p in processes:
        table.add_row(
            str(p["name"]),
            str(p["pid"]),
            json.dumps(p["ports"]),
            str(p["health"]),
            str(p["restarts"]),
        )
    console.print(f"shoplab ({run.mode}) at {run.url}")
    console.print(table)


@app.command()
def down(data_dir: DataDir = Path(".shoplab")) -> None:
    """Stop the system started from this data folder."""
    run = state.read(data_dir.resolve())
    if run is None:
        console.print("shoplab is not running.")
        return
    os.kill(run.supervisor_pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while state.supervisor_alive(run.supervisor_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if state.supervisor_alive(run.supervisor_pid):
        _fail(f"the supervisor (pid {run.supervisor_pid}) did not stop in 30 s.")
    console.print("stopped.")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _fail(message: str) -> None:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def main() -> None:
    app()
