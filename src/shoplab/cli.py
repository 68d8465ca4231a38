"""``shoplab``: start, inspect and stop a local run."""

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import nats.errors
import typer
from aiormq.exceptions import AMQPError
from rich.console import Console
from rich.table import Table

from shoplab.bench.cli import bench_command, load_command
from shoplab.identity.bootstrap import ADMIN_PASSWORD_FILE
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.settings import PlatformSettings
from shoplab.runtime import dead_letters, faults, state
from shoplab.runtime.broker import NatsServerNotFound, without_password
from shoplab.runtime.health import probe_all
from shoplab.runtime.history import HistoryClient, HistoryUnavailable
from shoplab.runtime.keys_cli import keys_app
from shoplab.runtime.logs_cli import logs_command
from shoplab.runtime.plans import CONTEXTS, PLANS, RunOptions, prepare
from shoplab.runtime.ports import RESERVED_PORTS, port_free
from shoplab.runtime.prometheus_cli import prometheus_config_command
from shoplab.runtime.scale import parse_scale
from shoplab.runtime.supervisor import StartFailed, Supervisor
from shoplab.runtime.trace_cli import trace_command

app = typer.Typer(
    help="shoplab: a runnable reference system for microservices.", no_args_is_help=True
)
dlq_app = typer.Typer(
    help="Dead letters: the messages a service gave up on (microservices mode).",
    no_args_is_help=True,
)
app.add_typer(dlq_app, name="dlq")
history_app = typer.Typer(
    help="The order history: a read model built from the event logs (microservices mode).",
    no_args_is_help=True,
)
app.add_typer(history_app, name="history")
app.add_typer(keys_app, name="keys")
console = Console()

DataDir = Annotated[Path, typer.Option("--data-dir", help="The run's data folder.")]
Broker = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="nats://HOST:PORT or amqp://USER:PASS@HOST:PORT/; default: the run's broker.",
    ),
]
T = TypeVar("T")


class Mode(StrEnum):
    microservices = "microservices"
    monolith = "monolith"


class Saga(StrEnum):
    orchestration = "orchestration"
    choreography = "choreography"


class Fsync(StrEnum):
    default = "default"
    always = "always"


@app.command()
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
        _fail(f"shoplab is already running from {data_dir}; `shoplab down` stops it.")
    if port in RESERVED_PORTS:
        _fail(f"port {port} is kept for the server usually found there; choose another --port.")
    if not port_free(port):
        _fail(f"port {port} is in use; choose another with --port.")
    if broker is not None and mode is Mode.monolith:
        _fail("--broker is for the microservices mode: the monolith passes messages in-process.")
    if scale and mode is Mode.monolith:
        _fail("--scale is for the microservices mode: the monolith is one process.")
    if redis is not None and not redis.startswith(("redis://", "rediss://")):
        _fail("--redis must be a redis:// or rediss:// URL.")
    if saga is not None and mode is Mode.monolith:
        _fail("--saga is for the microservices mode: the monolith settles each order at once.")
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
        _fail(str(error))
    prepare(options)
    try:
        supervisor = Supervisor(mode.value, plan, data_dir)
    except OSError as error:  # a port taken since the plan was made
        _fail(f"could not listen on a port of the plan: {error}")
    raise typer.Exit(asyncio.run(_run(supervisor, data_dir)))


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
        table.add_row(
            child.spec.name, str(child.pid), _ports(child.spec.ports), str(child.log_path)
        )
    console.print(table)
    url = supervisor.url
    console.print(f"shoplab ({supervisor.mode}) is ready at [bold]{url}[/bold]")
    console.print(f"API docs: {url}/api/docs    data folder: {data_dir}")
    if supervisor.broker_url is not None:
        console.print(f"broker: {without_password(supervisor.broker_url)}")
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
            _ports(p.ports),
            probe.health,
            str(p.restarts),
            _faults(probe.faults),
        )
    console.print(f"shoplab ({run.mode}) at {run.url}")
    console.print(table)


@app.command()
def fault(
    service: Annotated[str, typer.Argument(help="catalog, identity, inventory, orders...")],
    latency_ms: Annotated[
        int, typer.Option(min=0, max=600_000, help="Delay every request by this much.")
    ] = 0,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fail this share of requests (0 to 1).")
    ] = 0.0,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the service's faults.")] = False,
    data_dir: DataDir = Path(".shoplab"),
) -> None:
    """Slow down or break every instance of a running service, at once, until --clear."""
    run = state.read(data_dir.resolve())
    if run is None or run.broker_url is None:
        _fail(f"no microservices run in {data_dir}: `shoplab up` starts one.")
    if service not in CONTEXTS:
        _fail(f"faults are injected into services: {', '.join(CONTEXTS)}.")
    instances = sum(1 for p in run.processes if p.name.rsplit("-", 1)[0] == service)
    if not instances:
        _fail(f"the run has no {service!r} service.")
    if clear:
        latency_ms, error_rate = 0, 0.0
    elif not latency_ms and not error_rate:
        _fail("say what to break: --latency-ms, --error-rate, or --clear to stop.")
    order = faults.signed_order(data_dir.resolve(), latency_ms, error_rate)
    answers = _on_broker(
        faults.send_fault(run.broker_url, _topology(), service, order, instances=instances)
    )
    for answer in answers:
        console.print(
            f"{answer.get('instance')}: "
            + ("obeyed" if answer.get("obeyed") else "refused")
            + f" (latency {answer.get('latency_ms')} ms, error rate {answer.get('error_rate')})"
        )
    if len(answers) < instances or not all(a.get("obeyed") for a in answers):
        _fail(f"{len(answers)} of {instances} instance(s) of {service} applied the order.")


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


@dlq_app.command("list")
def dlq_list(
    data_dir: DataDir = Path(".shoplab"),
    broker: Broker = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the dead letters, oldest first."""
    letters = _on_broker(dead_letters.list_dead_letters(_broker_url(data_dir, broker), _topology()))
    if as_json:
        print(json.dumps([_letter_json(letter) for letter in letters], indent=2))
        return
    if not letters:
        console.print("no dead letters.")
        return
    table = Table("message id", "type", "consumer", "deliveries", "error", "dead-lettered at")
    for letter in letters:
        at = letter.dead_lettered_at
        table.add_row(
            letter.message_id or f"(unreadable, #{letter.sequence})",
            letter.type,
            letter.consumer,
            "" if letter.deliveries is None else str(letter.deliveries),
            letter.error,
            at.isoformat(timespec="seconds") if at else "",
        )
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    message_id: Annotated[str, typer.Argument(help="The message id, as `dlq list` shows it.")],
    data_dir: DataDir = Path(".shoplab"),
    broker: Broker = None,
) -> None:
    """Publish a dead-lettered message again to its original subject, then delete it."""
    url = _broker_url(data_dir, broker)
    try:
        replayed = _on_broker(dead_letters.replay_dead_letter(url, message_id, _topology()))
    except dead_letters.DeadLetterNotFound:
        _fail(f"no dead letter with message id {message_id} in {_topology().dead_letters()}.")
    except ValueError as error:
        _fail(str(error))
    letter = replayed.letter
    console.print(
        f"replayed {letter.message_id} ({letter.type}) to {letter.original_subject} "
        f"({replayed.stream} #{replayed.sequence}); "
        f"removed {replayed.removed} dead letter(s)."
    )


@history_app.command("status")
def history_status(
    data_dir: DataDir = Path(".shoplab"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How far the order history is behind each event log it reads."""
    answer = _on_history(data_dir, lambda client: client.status())
    _print_history(answer, as_json)


@history_app.command("rebuild")
def history_rebuild(
    data_dir: DataDir = Path(".shoplab"),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the replay.")] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Empty the order history and replay the event logs from the start; wait until done."""
    started = time.monotonic()
    answer = _on_history(data_dir, lambda client: client.rebuild(wait=timeout))
    if not as_json:
        console.print(f"rebuilt in {time.monotonic() - started:.1f} s.")
    _print_history(answer, as_json)


app.command("trace")(trace_command)
app.command("logs")(logs_command)
app.command("prometheus-config")(prometheus_config_command)
app.command("bench")(bench_command)
app.command("load", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    load_command
)


def _on_history(
    data_dir: Path, call: Callable[[HistoryClient], Coroutine[Any, Any, dict[str, Any]]]
) -> dict[str, Any]:
    run = state.read(data_dir.resolve())
    if run is None:
        _fail(f"shoplab is not running from {data_dir}: `shoplab up` starts it.")
    try:
        return asyncio.run(call(HistoryClient(run, data_dir.resolve())))
    except HistoryUnavailable as error:
        _fail(str(error))


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


def _faults(faults: dict[str, Any] | None) -> str:
    if not faults or not (faults.get("latency_ms") or faults.get("error_rate")):
        return ""
    return f"latency {faults['latency_ms']} ms, errors {faults['error_rate']:.0%}"


def _topology() -> Topology:
    """The run's subjects and streams: ``SHOPLAB_BROKER_NAMESPACE`` prefixes them when set."""
    return Topology(PlatformSettings().broker_namespace)


def _broker_url(data_dir: Path, broker: str | None) -> str:
    """``--broker`` when given, else the broker of the run in ``data_dir``."""
    if broker is not None:
        return broker
    run = state.read(data_dir.resolve())
    if run is None:
        _fail(f"shoplab is not running from {data_dir}; give the broker with --broker.")
    if run.broker_url is None:
        _fail(f"the run in {data_dir} ({run.mode}) has no broker.")
    return run.broker_url


def _on_broker(call: Coroutine[Any, Any, T]) -> T:
    """Run a broker call; a broker that fails ends the command with its reason."""
    try:
        return asyncio.run(call)
    except dead_letters.BrokerUnreachable as error:
        _fail(str(error))
    except (nats.errors.Error, AMQPError) as error:
        _fail(f"the broker refused: {error}")


def _letter_json(letter: dead_letters.DeadLetter) -> dict[str, Any]:
    at = letter.dead_lettered_at
    return {
        "sequence": letter.sequence,
        "message_id": letter.message_id,
        "type": letter.type,
        "original_subject": letter.original_subject,
        "consumer": letter.consumer,
        "deliveries": letter.deliveries,
        "error": letter.error,
        "dead_lettered_at": at.isoformat() if at else None,
        "envelope": letter.envelope(),
    }


def _ports(ports: dict[str, int]) -> str:
    return ", ".join(f"{name} {port}" for name, port in ports.items())


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _fail(message: str) -> NoReturn:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def main() -> None:
    app()
