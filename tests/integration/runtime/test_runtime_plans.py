"""The plans of ``shoplab up``: processes, ports, environment, broker configuration."""

import json
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from shoplab.runtime import broker
from shoplab.runtime.launcher import Launcher
from shoplab.runtime.plans import (
    CONTEXTS,
    GRPC_CONTEXTS,
    PLANS,
    Plan,
    ProcessSpec,
    RunOptions,
    microservices_plan,
    monolith_plan,
    service_database_url,
)
from shoplab.runtime.ports import RESERVED_PORTS, free_ports
from shoplab.runtime.scale import MAX_INSTANCES, parse_scale
from shoplab.runtime.supervisor import Child, _stages

DATA_DIR = Path("/srv/shop")
SERVICES = [f"{context}-1" for context in CONTEXTS]


def plan(
    *,
    database_url: str | None = None,
    broker_url: str | None = None,
    fsync: bool = False,
    scale: Mapping[str, int] | None = None,
) -> Plan:
    options = RunOptions(
        "microservices", 8080, DATA_DIR, database_url, broker_url, fsync, scale or {}
    )
    return microservices_plan(options)


def by_name(run: Plan) -> dict[str, ProcessSpec]:
    return {spec.name: spec for spec in run.processes}


def test_the_broker_starts_first_then_the_services_then_the_gateway() -> None:
    run = plan()
    assert [spec.name for spec in run.processes] == ["nats-1", *SERVICES, "gateway-1"]
    assert [spec.hold_next_until_ready for spec in run.processes] == [True] + [False] * (
        len(SERVICES) + 1
    )
    assert run.url == "http://127.0.0.1:8080"


def test_ports_are_distinct_and_never_reserved() -> None:
    run = plan()
    ports = [port for spec in run.processes for port in spec.ports.values()]
    grpc = len(GRPC_CONTEXTS)  # a service that answers queries has a gRPC port too
    assert len(ports) == len(set(ports)) == 2 + len(CONTEXTS) + grpc + 1
    assert not set(ports) & RESERVED_PORTS
    assert by_name(run)["gateway-1"].ports == {"http": 8080}
    assert set(by_name(run)["nats-1"].ports) == {"client", "monitor"}


def test_free_ports_skip_reserved_and_avoided_ports() -> None:
    ports = free_ports(40, avoid=frozenset({8080}))
    assert len(set(ports)) == 40
    assert not set(ports) & (RESERVED_PORTS | {8080})


def test_each_process_has_its_command_and_readiness_url() -> None:
    specs = by_name(plan())
    nats = specs["nats-1"]
    assert nats.argv[0].endswith("nats-server")
    assert nats.argv[1:] == [
        "--addr",
        "127.0.0.1",
        "--port",
        str(nats.ports["client"]),
        "--http_port",
        str(nats.ports["monitor"]),
        "--config",
        str(DATA_DIR / "nats" / "nats.conf"),
    ]
    monitor = nats.ports["monitor"]
    assert nats.ready_url == f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
    orders = specs["orders-1"]
    port = orders.ports["http"]
    assert orders.argv == [sys.executable, "-m", "shoplab.services", "orders", "--port", str(port)]
    assert orders.ready_url == f"http://127.0.0.1:{port}/health/ready"
    gateway = specs["gateway-1"]
    assert gateway.argv == [sys.executable, "-m", "shoplab.gateway", "--port", "8080"]
    assert gateway.ready_url == "http://127.0.0.1:8080/health/ready"


def test_every_service_and_the_gateway_know_the_broker_and_each_other() -> None:
    run = plan()
    specs = by_name(run)
    client = specs["nats-1"].ports["client"]
    assert run.broker_url == f"nats://127.0.0.1:{client}"
    service_urls = {c: f"http://127.0.0.1:{specs[f'{c}-1'].ports['http']}" for c in CONTEXTS}
    for name in [*SERVICES, "gateway-1"]:
        env = specs[name].env
        assert env["SHOPLAB_DATA_DIR"] == str(DATA_DIR)
        assert env["SHOPLAB_INSTANCE"] == "1"
        assert env["SHOPLAB_BROKER_URL"] == run.broker_url
        assert json.loads(env["SHOPLAB_SERVICE_URLS"]) == service_urls
        assert env["SHOPLAB_FSYNC"] == "false"
        assert not any(key.endswith("DATABASE_URL") for key in env)


def test_fsync_always_reaches_every_service() -> None:
    specs = plan(fsync=True).processes
    assert {spec.env["SHOPLAB_FSYNC"] for spec in specs if spec.name != "nats-1"} == {"true"}


def test_a_server_gives_each_service_its_own_database() -> None:
    specs = by_name(plan(database_url="postgresql://postgres@127.0.0.1:5432/shoplab"))
    for context in CONTEXTS:
        env = specs[f"{context}-1"].env
        own = f"SHOPLAB_{context.upper()}_DATABASE_URL"
        assert env[own] == f"postgresql://postgres@127.0.0.1:5432/shoplab_{context}"
        assert [key for key in env if key.endswith("DATABASE_URL")] == [own]
    assert not any(key.endswith("DATABASE_URL") for key in specs["gateway-1"].env)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("postgresql://u@h:5432/shoplab", "postgresql://u@h:5432/shoplab_orders"),
        (
            "postgresql+asyncpg://u:s3cret@h/shop?ssl=require",
            "postgresql+asyncpg://u:s3cret@h/shop_orders?ssl=require",
        ),
        ("postgresql://u@h:5432", "postgresql://u@h:5432/shoplab_orders"),
    ],
)
def test_service_database_url_appends_the_context(base: str, expected: str) -> None:
    assert service_database_url(base, "orders") == expected


@pytest.mark.parametrize("base", ["sqlite:///tmp/x.db", "not a url"])
def test_service_database_url_needs_a_postgresql_server(base: str) -> None:
    with pytest.raises(ValueError, match="database-url"):
        service_database_url(base, "orders")


def test_an_external_broker_replaces_the_embedded_one() -> None:
    run = plan(broker_url="nats://nats.internal:4222")
    assert "nats-1" not in by_name(run)
    assert run.broker_url == "nats://nats.internal:4222"
    assert {spec.env["SHOPLAB_BROKER_URL"] for spec in run.processes} == {run.broker_url}


def test_rabbitmq_replaces_nats_and_every_process_gets_the_instances() -> None:
    url = "amqp://guest:guest@127.0.0.1:5672/"
    run = plan(broker_url=url, scale={"inventory": 2})
    assert not any(name.startswith("nats") for name in by_name(run))
    assert run.broker_url == url
    for spec in run.processes:
        assert spec.env["SHOPLAB_BROKER_URL"] == url
        assert spec.env["SHOPLAB_DISCOVERY"] == "static"
    listed = json.loads(run.processes[0].env["SHOPLAB_DISCOVERY_INSTANCES"])
    services = {spec.name: spec for spec in run.processes if spec.name != "gateway-1"}
    assert {f"{i['service']}-{i['id']}" for i in listed} == set(services)
    inventory_2 = next(i for i in listed if (i["service"], i["id"]) == ("inventory", "2"))
    assert inventory_2["ports"] == services["inventory-2"].ports


def test_a_nats_run_keeps_the_registry() -> None:
    run = plan(broker_url="nats://nats.internal:4222")
    assert all("SHOPLAB_DISCOVERY" not in spec.env for spec in run.processes)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("amqp://guest@localhost/", "port"),
        ("http://localhost:4222", "nats://"),
        ("nats://localhost", "port"),
        ("nats://:4222", "host"),
    ],
)
def test_unusable_broker_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(broker_url=url)


def test_the_nats_config_keeps_the_default_sync_interval_unless_fsync() -> None:
    store = Path("/srv/shop/nats/store")
    default = broker.nats_config(store, fsync=False)
    always = broker.nats_config(store, fsync=True)
    assert 'store_dir: "/srv/shop/nats/store"' in default
    assert "sync_interval" not in default
    assert "sync_interval: always" in always
    assert always.index("jetstream {") < always.index("sync_interval") < always.index("}")


def test_the_nats_config_is_written_under_the_data_folder(tmp_path: Path) -> None:
    path = broker.write_nats_config(tmp_path, fsync=True)
    assert path == tmp_path / "nats" / "nats.conf"
    assert str(tmp_path / "nats" / "store") in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["nats.conf"]


def test_the_monolith_is_one_process() -> None:
    options = RunOptions("monolith", 9090, DATA_DIR, "postgresql://u@h/db", fsync=True)
    run = monolith_plan(options)
    (spec,) = run.processes
    assert spec.name == "monolith-1"
    assert spec.ready_url == "http://127.0.0.1:9090/health/ready"
    assert spec.env["SHOPLAB_DATABASE_URL"] == "postgresql://u@h/db"
    assert spec.env["SHOPLAB_FSYNC"] == "true"
    assert run.broker_url is None
    assert set(PLANS) == {"microservices", "monolith"}


def test_scale_runs_n_instances_of_a_service_each_on_its_own_ports() -> None:
    run = plan(scale={"inventory": 3, "payments": 2})
    specs = by_name(run)
    inventories = [specs[f"inventory-{n}"] for n in (1, 2, 3)]
    assert "inventory-4" not in specs
    assert [spec.env["SHOPLAB_INSTANCE"] for spec in inventories] == ["1", "2", "3"]
    for spec in inventories:
        port = spec.ports["http"]
        assert spec.argv[-3:] == ["inventory", "--port", str(port)]
        assert spec.ready_url == f"http://127.0.0.1:{port}/health/ready"
    ports = [port for spec in run.processes for port in spec.ports.values()]
    extra = 3  # inventory-2, inventory-3 and payments-2, each with an http and a gRPC port
    first = len(CONTEXTS) + len(GRPC_CONTEXTS)
    assert len(ports) == len(set(ports)) == 2 + first + 2 * extra + 1
    assert not set(ports) & RESERVED_PORTS


def test_instances_of_a_service_share_its_database() -> None:
    specs = by_name(plan(database_url="postgresql://u@h/shop", scale={"orders": 2}))
    own = "SHOPLAB_ORDERS_DATABASE_URL"
    assert (
        specs["orders-1"].env[own] == specs["orders-2"].env[own] == "postgresql://u@h/shop_orders"
    )
    sqlite = by_name(plan(scale={"orders": 2}))
    for name in ("orders-1", "orders-2"):  # the same data folder: the same orders.db
        assert sqlite[name].env["SHOPLAB_DATA_DIR"] == str(DATA_DIR)
        assert not any(key.endswith("DATABASE_URL") for key in sqlite[name].env)


def test_first_instances_are_ready_before_the_others_start() -> None:
    """Instances sharing a database never run its migrations and seeding together."""
    run = plan(scale={"inventory": 3})
    names = [spec.name for spec in run.processes]
    assert names == ["nats-1", *SERVICES, "inventory-2", "inventory-3", "gateway-1"]
    launcher = Launcher(Path("/nonexistent/launcher.log"))
    stages = _stages([Child(spec, Path("/nonexistent"), launcher) for spec in run.processes])
    assert [[child.spec.name for child in stage] for stage in stages] == [
        ["nats-1"],
        SERVICES,
        ["inventory-2", "inventory-3", "gateway-1"],
    ]


def test_callers_are_told_the_first_instance_until_they_use_the_registry() -> None:
    run = plan(scale={"catalog": 2})
    specs = by_name(run)
    urls = json.loads(specs["gateway-1"].env["SHOPLAB_SERVICE_URLS"])
    assert urls["catalog"] == f"http://127.0.0.1:{specs['catalog-1'].ports['http']}"
    assert json.loads(specs["catalog-2"].env["SHOPLAB_SERVICE_URLS"]) == urls


def test_the_grpc_port_reaches_the_instance_by_environment() -> None:
    specs = by_name(plan(scale={"inventory": 2}))
    assert set(specs["orders-1"].ports) == {"http"}, "orders serves no gRPC"
    for name in ("inventory-1", "inventory-2"):
        spec = specs[name]
        assert set(spec.ports) == {"http", "grpc"}
        assert spec.env["SHOPLAB_GRPC_PORT"] == str(spec.ports["grpc"])
    assert specs["inventory-1"].ports["grpc"] != specs["inventory-2"].ports["grpc"]
    assert "SHOPLAB_GRPC_PORT" not in specs["gateway-1"].env


def test_parse_scale_reads_repeated_service_counts() -> None:
    assert parse_scale(["inventory=3", " orders=1"], CONTEXTS) == {"inventory": 3, "orders": 1}
    assert parse_scale([], CONTEXTS) == {}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["inventory"], "SERVICE=N"),
        (["=3"], "SERVICE=N"),
        (["gateway=2"], "no service 'gateway'"),
        (["inventory=0"], "from 1 to 8"),
        ([f"inventory={MAX_INSTANCES + 1}"], "from 1 to 8"),
        (["inventory=two"], "whole number"),
        (["inventory=2", "inventory=3"], "twice"),
    ],
)
def test_parse_scale_refuses_what_it_cannot_run(values: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_scale(values, CONTEXTS)


@pytest.mark.parametrize("scale", [{"inventory": 9}, {"warehouse": 2}, {"orders": 0}])
def test_the_plan_refuses_an_unusable_scale(scale: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="--scale"):
        plan(scale=scale)


def test_the_history_runs_as_one_instance() -> None:
    """Its projector is the view's only writer: a second instance would race it."""
    with pytest.raises(ValueError, match="history=2: history runs as one instance"):
        plan(scale={"history": 2})
    assert [s.name for s in plan(scale={"history": 1}).processes].count("history-1") == 1
