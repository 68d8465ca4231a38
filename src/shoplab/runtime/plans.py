"""What each mode runs: the processes, their commands, ports and environment.

Building a plan only chooses; ``prepare`` writes the files the processes read
at start, and the supervisor starts them.
"""

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shoplab.contracts import contexts
from shoplab.platform.internal_auth import ensure_service_secret
from shoplab.platform.messaging.brokers import is_amqp
from shoplab.runtime import broker
from shoplab.runtime.ports import free_ports
from shoplab.runtime.scale import check_scale

CONTEXTS = contexts.NAMES
"""The bounded contexts that run as services, in the order they are started and listed."""
GRPC_CONTEXTS = frozenset(c.name for c in contexts.CONTEXTS if c.serves_grpc)
"""The services that answer queries over gRPC (identity and orders serve none)."""
SINGLE_WRITERS = frozenset(c.name for c in contexts.CONTEXTS if not c.scalable)
"""The services that must run as one instance: the history's projector is the view's only writer."""


def instance_ports(context: str) -> tuple[str, ...]:
    """The ports one instance gets. ``http`` goes on its command line (``--port``), ``grpc``
    in its environment as ``SHOPLAB_GRPC_PORT``: fixed for the run, so a restarted instance
    comes back where it was and ``shoplab status`` shows it."""
    return ("http", "grpc") if context in GRPC_CONTEXTS else ("http",)


@dataclass(frozen=True)
class ProcessSpec:
    """One supervised process.

    ``ready_url`` answers 200 once the process serves. When ``hold_next_until_ready``
    is set, the processes after it in the plan start only once it (and those started
    with it) are ready, and stop before it: the broker comes up first and goes down last.
    """

    name: str
    argv: list[str]
    ports: dict[str, int]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    hold_next_until_ready: bool = False


@dataclass(frozen=True)
class RunOptions:
    mode: str
    port: int
    data_dir: Path
    database_url: str | None = None
    broker_url: str | None = None
    """An external broker; None starts the embedded one (microservices mode)."""
    fsync: bool = False
    """Sync every commit and every broker write to disk: survives a power loss."""
    scale: Mapping[str, int] = field(default_factory=dict)
    """Instances per service (``--scale inventory=3``); one for a service not named."""
    saga: str = "orchestration"
    """How orders are settled in the microservices mode (``--saga``): every service reads it."""
    redis_url: str | None = None
    """Where rate-limit counters are kept (``--redis``), shared by every process; memory if None."""


@dataclass(frozen=True)
class Plan:
    processes: list[ProcessSpec]
    url: str
    """Where the public API answers."""
    broker_url: str | None = None


def http_ready_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/health/ready"


def monolith_plan(options: RunOptions) -> Plan:
    env = {
        "SHOPLAB_DATA_DIR": str(options.data_dir),
        "SHOPLAB_INSTANCE": "1",
        "SHOPLAB_FSYNC": _flag(options.fsync),
    }
    if options.database_url:
        env["SHOPLAB_DATABASE_URL"] = options.database_url
    if options.redis_url:
        env["SHOPLAB_REDIS_URL"] = options.redis_url
    argv = [sys.executable, "-m", "shoplab.monolith", "--port", str(options.port)]
    return Plan([_http_spec("monolith-1", argv, options.port, env)], _public_url(options))


def microservices_plan(options: RunOptions) -> Plan:
    """The broker (unless external), the services' instances, then the gateway.

    On RabbitMQ (``--broker amqp://...``) no NATS runs at all, and since the
    registry is a NATS bucket every process is given the run's instances instead
    (``SHOPLAB_DISCOVERY=static``).

    Service ``inventory`` scaled to 3 runs as ``inventory-1`` to ``inventory-3``,
    each on its own ports with ``SHOPLAB_INSTANCE`` set to its number. The first
    instance of every service starts (and migrates and seeds its database) before
    any other, so that instances sharing a database never migrate it together.
    ``SHOPLAB_SERVICE_URLS`` names first instances only; the others are found
    through the registry.

    Raises ValueError for an unusable ``--broker``, ``--database-url`` or
    ``--scale``, and ``NatsServerNotFound`` when the embedded broker has no binary.
    """
    check_scale(options.scale, CONTEXTS, single=SINGLE_WRITERS)
    instances = [(c, n) for c in CONTEXTS for n in range(1, options.scale.get(c, 1) + 1)]
    broker_ports = 2 if options.broker_url is None else 0
    count = sum(len(instance_ports(c)) for c, _ in instances) + broker_ports
    ports = free_ports(count, avoid=frozenset({options.port}))
    processes: list[ProcessSpec] = []
    if options.broker_url is None:
        client, monitor = ports.pop(), ports.pop()
        broker_url = f"nats://127.0.0.1:{client}"
        processes.append(_nats_spec(options.data_dir, client, monitor))
    else:
        broker_url = broker.check_broker_url(options.broker_url)
    own_ports = {(c, n): {name: ports.pop() for name in instance_ports(c)} for c, n in instances}
    service_urls = {c: f"http://127.0.0.1:{own_ports[(c, 1)]['http']}" for c in CONTEXTS}
    shared_env = {
        "SHOPLAB_DATA_DIR": str(options.data_dir),
        "SHOPLAB_INSTANCE": "1",
        "SHOPLAB_BROKER_URL": broker_url,
        "SHOPLAB_SERVICE_URLS": json.dumps(service_urls),
        "SHOPLAB_FSYNC": _flag(options.fsync),
        "SHOPLAB_SAGA": options.saga,
    }
    if options.redis_url:
        shared_env["SHOPLAB_REDIS_URL"] = options.redis_url
    if is_amqp(broker_url):  # no NATS, so no registry: every process gets the list
        shared_env["SHOPLAB_DISCOVERY"] = "static"
        shared_env["SHOPLAB_DISCOVERY_INSTANCES"] = json.dumps(
            [
                {"service": c, "id": str(n), "host": "127.0.0.1", "ports": own_ports[(c, n)]}
                for c, n in instances
            ]
        )
    services = [_service_spec(options, c, n, own_ports[(c, n)], shared_env) for c, n in instances]
    firsts = [spec for spec in services if spec.env["SHOPLAB_INSTANCE"] == "1"]
    others = [spec for spec in services if spec.env["SHOPLAB_INSTANCE"] != "1"]
    if others:  # the stage of first instances must be ready before the others start
        firsts[-1] = replace(firsts[-1], hold_next_until_ready=True)
    gateway_argv = [sys.executable, "-m", "shoplab.gateway", "--port", str(options.port)]
    gateway = _http_spec("gateway-1", gateway_argv, options.port, dict(shared_env))
    return Plan([*processes, *firsts, *others, gateway], _public_url(options), broker_url)


def _service_spec(
    options: RunOptions, context: str, number: int, ports: dict[str, int], env: dict[str, str]
) -> ProcessSpec:
    """One instance of a service: its ports, its number, and its context's database."""
    env = {**env, "SHOPLAB_INSTANCE": str(number)}
    env.update(
        {f"SHOPLAB_{name.upper()}_PORT": str(p) for name, p in ports.items() if name != "http"}
    )
    if options.database_url:
        env[f"SHOPLAB_{context.upper()}_DATABASE_URL"] = service_database_url(
            options.database_url, context
        )
    http = ports["http"]
    argv = [sys.executable, "-m", "shoplab.services", context, "--port", str(http)]
    return ProcessSpec(f"{context}-{number}", argv, ports, http_ready_url(http), env)


def service_database_url(base_url: str, context: str) -> str:
    """The context's own database on the server of ``base_url``: ``<name>_<context>``.

    ``postgresql://u@h:5432/shoplab`` gives ``.../shoplab_orders`` for orders; a
    URL without a database name counts as ``shoplab``. Each service creates its
    database when it is missing.
    """
    try:
        url = make_url(base_url)
    except ArgumentError as error:
        raise ValueError(f"--database-url is not a database URL: {base_url!r}") from error
    if not url.drivername.startswith("postgresql"):
        raise ValueError(
            f"--database-url must be a postgresql:// server, not {url.drivername}://; "
            "without it each service keeps its own SQLite file in the data folder"
        )
    name = url.database or "shoplab"
    return url.set(database=f"{name}_{context}").render_as_string(hide_password=False)


def prepare(options: RunOptions) -> None:
    """Write what the processes read at start: the shared service secret, the broker's config."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    if options.mode == "microservices":
        ensure_service_secret(options.data_dir)
        if options.broker_url is None:
            broker.write_nats_config(options.data_dir, options.fsync)


def _http_spec(name: str, argv: list[str], port: int, env: dict[str, str]) -> ProcessSpec:
    return ProcessSpec(name, argv, {"http": port}, http_ready_url(port), env)


def _nats_spec(data_dir: Path, client: int, monitor: int) -> ProcessSpec:
    argv = [*broker.server_argv(client, monitor), "--config", str(broker.config_path(data_dir))]
    ports = {"client": client, "monitor": monitor}
    return ProcessSpec(
        "nats-1", argv, ports, broker.healthz_url(monitor), hold_next_until_ready=True
    )


def _public_url(options: RunOptions) -> str:
    return f"http://127.0.0.1:{options.port}"


def _flag(value: bool) -> str:
    return "true" if value else "false"


PLANS: dict[str, Callable[[RunOptions], Plan]] = {
    "microservices": microservices_plan,
    "monolith": monolith_plan,
}
