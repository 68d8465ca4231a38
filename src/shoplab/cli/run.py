"""``shoplab up``, ``status`` and ``down``: start a local run, look at it, stop it.

``up`` checks the options, asks ``runtime.plans`` for the plan of the chosen mode and
hands it to the supervisor, which runs in this process until Ctrl-C or ``down``.
"""

import asyncio
import json
import os
import signal
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shoplab.cli.options import AsJson, DataDir
from shoplab.cli.output import console, fail, ports
from shoplab.runtime import state
from shoplab.runtime.broker import NatsServerNotFound, without_password
from shoplab.runtime.health import probe_all
from shoplab.runtime.plans import CONTEXTS, PLANS, RunOptions, prepare
from shoplab.runtime.ports import RESERVED_PORTS, port_free
from shoplab.runtime.scale import parse_scale
from shoplab.runtime.supervisor import StartFailed, Supervisor


class Mode(StrEnum):
    microservices = "microservices"
    monolith = "monolith"


class Saga(StrEnum):
    orchestration = "orchestration"
    choreography = "choreography"


class Fsync(StrEnum):
    default = "default"
    always = "always"


def up(
    mode: Annotated[Mode, typer.Option(help="How to run the domain.")] = Mode.microservices,
    port: Annotated[int, typer.Option(help="The public HTTP port.")] = 8080,
    data_dir: DataDir = Path(".shoplab"),
    database_url: Annotated[
        str | None, typer.Option(help="postgresql://… to use a server instead of SQLite.")
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(
            help="nats://HOST:PORT: an external NATS instead of the embedded one; "
            "amqp://USER:PASS@HOST:PORT/: RabbitMQ instead of NATS."
        ),
    ] = None,
    fsync: Annotated[
        Fsync, typer.Option(help="always: sync every write to disk (survives a power loss).")
    ] = Fsync.default,
    scale: Annotated[
        list[str] | None,
        typer.Option(metavar="SERVICE=N", help="Run N instances (1-8) of a service; repeatable."),
    ] = None,
    saga: Annotated[
        Saga | None,
        typer.Option(help="How orders are settled across services (default: orchestration)."),
    ] = None,
    redis: Annotated[
        str | None,
        typer.Option(
            help="redis://HOST:PORT/DB: keep rate-limit counters there, shared by every "
            "process (default: each process counts in memory)."
        ),
    ] = None,
) -> None:
    """Start the system and keep it running until Ctrl-C or `shoplab down`."""
    data_dir = data_dir.resolve()
    if state.read(data_dir) is not None:
        fail(f"shoplab is already running from {data_dir}; `shoplab down` stops it.")
    if port in RESERVED_PORTS:
        fail(f"port {port} is kept for the server usually found there; choose another --port.")
    if not port_free(port):
        fail(f"port {port} is in use; choose another with --port.")
    _check_options(mode, broker, scale, redis, saga)
    try:
        instances = parse_scale(scale or [], CONTEXTS)
        options = RunOptions(
            mode.value,
            port,
            data_dir,
            database_url,
            broker,
            fsync is Fsync.always,
            instances,
            saga=(saga or Saga.orchestration).value,
            redis_url=redis,
        )
        plan = PLANS[mode.value](options)
    except (ValueError, NatsServerNotFound) as error:
        fail(str(error))
    prepare(options)
    try:
        supervisor = Supervisor(mode.value, plan, data_dir)
    except OSError as error:  # a port taken since the plan was made
        fail(f"could not listen on a port of the plan: {error}")
    raise typer.Exit(asyncio.run(_run(supervisor, data_dir)))


def _check_options(
    mode: Mode, broker: str | None, scale: list[str] | None, redis: str | None, saga: Saga | None
) -> None:
    """Refuse the options the chosen mode has no use for, and a Redis URL that is none."""
    if broker is not None and mode is Mode.monolith:
        fail("--broker is for the microservices mode: the monolith passes messages in-process.")
    if scale and mode is Mode.monolith:
        fail("--scale is for the microservices mode: the monolith is one process.")
    if redis is not None and not redis.startswith(("redis://", "rediss://")):
        fail("--redis must be a redis:// or rediss:// URL.")
    if saga is not None and mode is Mode.monolith:
        fail("--saga is for the microservices mode: the monolith settles each order at once.")


async def _run(supervisor: Supervisor, data_dir: Path) -> int:
    started = time.time()
    try:
        ready = await supervisor.start(ready_timeout=60)
    except StartFailed as failure:
        console.print(f"[red]could not start:[/red] {failure}")
        console.print(_tail(failure.child.log_path))
        await supervisor.stop()
        return 1
    if not ready:
        await supervisor.stop()
        console.print("stopped.")
        return 0
    _print_started(supervisor, data_dir, started)
    await supervisor.run_until_stopped()
    console.print("stopped.")
    return 0


def _print_started(supervisor: Supervisor, data_dir: Path, started: float) -> None:
    table = Table("process", "pid", "ports", "log")
    for child in supervisor.children:
        table.add_row(child.spec.name, str(child.pid), ports(child.spec.ports), str(child.log_path))
    console.print(table)
    url = supervisor.url
    console.print(f"shoplab ({supervisor.mode}) is ready at [bold]{url}[/bold]")
    console.print(f"API docs: {url}/api/docs    data folder: {data_dir}")
    if supervisor.broker_url is not None:
        console.print(f"broker: {without_password(supervisor.broker_url)}")
    from shoplab.identity.bootstrap import ADMIN_PASSWORD_FILE  # the context, once it started

    password_file = data_dir / ADMIN_PASSWORD_FILE
    if password_file.exists() and password_file.stat().st_mtime >= started:
        password = password_file.read_text().strip()
        console.print(f"administrator: admin@shoplab.local / {password} (kept in {password_file})")
    console.print("Ctrl-C or `shoplab down` stops it.")


def status(
    data_dir: DataDir = Path(".shoplab"),
    as_json: AsJson = False,
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
            "health": health[p.name].health,
            "restarts": p.restarts,
            "faults": health[p.name].faults,
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
            "broker_url": without_password(run.broker_url) if run.broker_url else None,
            "processes": processes,
        }
        print(json.dumps(report, indent=2))
        return
    table = Table("process", "pid", "ports", "health", "restarts", "faults")
    for p in run.processes:
        probe = health[p.name]
        table.add_row(
            p.name,
            str(p.pid),
            ports(p.ports),
            probe.health,
            str(p.restarts),
            _faults(probe.faults),
        )
    console.print(f"shoplab ({run.mode}) at {run.url}")
    console.print(table)


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
        fail(f"the supervisor (pid {run.supervisor_pid}) did not stop in 30 s.")
    console.print("stopped.")


def _faults(faults: dict[str, Any] | None) -> str:
    if not faults or not (faults.get("latency_ms") or faults.get("error_rate")):
        return ""
    return f"latency {faults['latency_ms']} ms, errors {faults['error_rate']:.0%}"


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
