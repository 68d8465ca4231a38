"""Observability in every mode: one trace per order, logs that follow it, metrics everywhere.

An order's placement must be one trace from the public port to the notification,
whatever carries it (HTTP, gRPC, NATS, RabbitMQ, the monolith's in-process relay),
read back with ``shoplab trace --json``; its log lines, read with ``shoplab logs
--order``, carry the same trace id; and every process answers ``/metrics``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shoplab.operations.traces import spans_of_traces_mentioning

from .api import System, register_customer
from .launcher import run_cli, status_processes
from .shop import pick_products, place_and_wait, set_stock

SPANS_WITHIN_S = 20.0
"""Processes write their spans about every second; a busy CI machine may take longer."""
LAST_HOP = "publish NotificationSent"
"""The placement's last span: notifications announcing what it sent."""
PLACEMENT_SERVICES = {"gateway", "orders", "inventory", "payments", "notifications"}
LOGGING_SERVICES = {"orders", "inventory", "payments", "notifications"}


def expected_services(system: System) -> set[str]:
    return PLACEMENT_SERVICES if system.mode.cli_mode == "microservices" else {"monolith"}


def trace_of(data_dir: Path, order_id: str) -> dict[str, Any]:
    done = run_cli("trace", order_id, "--json", "--data-dir", str(data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    trace: dict[str, Any] = json.loads(done.stdout)
    return trace


async def complete_trace(system: System, order_id: str) -> dict[str, Any]:
    """The order's placement trace, read with ``shoplab trace``, once its last hop is written.

    The span files are watched directly (cheaper than running the command every time)
    until the notification's publish is there and the count stopped growing.
    """
    previous = -1
    deadline = time.monotonic() + SPANS_WITHIN_S
    while time.monotonic() < deadline:
        spans = spans_of_traces_mentioning(system.data_dir, order_id)
        if any(span.name == LAST_HOP for span in spans) and len(spans) == previous:
            return trace_of(system.data_dir, order_id)
        previous = len(spans)
        await asyncio.sleep(1.0)
    raise AssertionError(f"no complete trace of {order_id} within {SPANS_WITHIN_S} s")


async def approved_order(client: httpx.AsyncClient, system: System) -> str:
    """An order that must be approved: stocked, since other tests may have sold out."""
    sku = (await pick_products(client, 1))[0]["sku"]
    await set_stock(client, await system.admin_headers(client), sku, 1000)
    customer = await register_customer(client)
    order = await place_and_wait(client, customer, [(sku, 1)], "pm_card_visa")
    assert order["status"] == "APPROVED", order
    return str(order["order_id"])


@dataclass(frozen=True)
class Traced:
    order_id: str
    trace: dict[str, Any]


@pytest.fixture(scope="session")
async def traced(system: System) -> Traced:
    """One approved order per mode and its complete trace, which the tests below read."""
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        order_id = await approved_order(client, system)
    return Traced(order_id, await complete_trace(system, order_id))


def spans_by_id(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {span["span_id"]: span for span in trace["spans"]}


async def test_an_order_is_one_unbroken_trace_across_every_hop(
    system: System, traced: Traced
) -> None:
    order_id, trace = traced.order_id, traced.trace

    spans = spans_by_id(trace)
    assert {span["trace_id"] for span in trace["spans"]} == {trace["trace_id"]}
    roots = [span for span in trace["spans"] if span["parent_id"] is None]
    assert len(roots) == 1, roots
    assert roots[0]["name"].startswith("POST"), roots[0]
    broken = [s for s in trace["spans"] if s["parent_id"] and s["parent_id"] not in spans]
    assert broken == [], f"spans whose parent is missing: {broken}"
    assert {span["service"] for span in trace["spans"]} >= expected_services(system)
    assert any(span["attributes"].get("order_id") == order_id for span in trace["spans"])


async def test_the_trace_crosses_the_broker_and_grpc_as_parent_links(
    system: System, traced: Traced
) -> None:
    trace = traced.trace

    spans = spans_by_id(trace)
    consumed = [s for s in trace["spans"] if s["kind"] == "CONSUMER"]
    assert consumed, "no message handling in the trace"
    for span in consumed:
        parent = spans[span["parent_id"]]
        assert parent["kind"] == "PRODUCER", (span, parent)
        assert parent["name"].removeprefix("publish ") == span["name"].removeprefix("process ")
    handled_by = {span["service"] for span in consumed}
    if system.mode.cli_mode == "microservices":
        assert handled_by >= {"orders", "inventory", "payments", "notifications"}
        rpcs = [s for s in trace["spans"] if s["kind"] == "SERVER" and s["name"].startswith("/")]
        assert rpcs, "no gRPC call served in the trace"
        for span in rpcs:
            caller = spans[span["parent_id"]]
            assert caller["kind"] == "CLIENT", caller
            assert caller["service"] != span["service"], caller


async def test_the_order_log_lines_carry_its_trace(system: System, traced: Traced) -> None:
    order_id, trace = traced.order_id, traced.trace

    done = run_cli("logs", "--order", order_id, "--json", "--data-dir", str(system.data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert lines, "no log line of the order"
    assert {line["order_id"] for line in lines} == {order_id}
    placement = [line for line in lines if line.get("trace_id") == trace["trace_id"]]
    wanted = LOGGING_SERVICES if system.mode.cli_mode == "microservices" else {"monolith"}
    assert {line["service"] for line in placement} >= wanted, lines
    span_ids = spans_by_id(trace)
    assert all(line["span_id"] in span_ids for line in placement), placement


@pytest.fixture(scope="session")
def processes(system: System) -> list[dict[str, Any]]:
    """What ``shoplab status --json`` lists, asked once per mode."""
    return status_processes(system.data_dir)


async def test_every_process_serves_its_metrics(processes: list[dict[str, Any]]) -> None:
    processes = [p for p in processes if not p["name"].startswith("nats")]
    assert processes
    async with httpx.AsyncClient(timeout=10.0) as http:
        for process in processes:
            answer = await http.get(f"http://127.0.0.1:{process['ports']['http']}/metrics")
            assert answer.status_code == 200, (process, answer.text[:500])
            assert "shoplab_" in answer.text, process


Sample = tuple[str, dict[str, str], float]


async def metrics_of(processes: list[dict[str, Any]], process_name: str) -> list[Sample]:
    """The samples a process's ``/metrics`` answers, parsed as Prometheus would."""
    process = next(p for p in processes if p["name"] == process_name)
    async with httpx.AsyncClient(timeout=10.0) as http:
        text = (await http.get(f"http://127.0.0.1:{process['ports']['http']}/metrics")).text
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the series of ``name`` that carry ``labels``; fails when there is none."""
    found = [v for n, tags, v in samples if n == name and labels.items() <= tags.items()]
    assert found, f"no series {name}{labels}"
    return sum(found)


async def test_the_order_flow_is_measured(
    system: System, processes: list[dict[str, Any]], traced: Traced
) -> None:
    orders = await metrics_of(processes, system.mode.order_process)

    placed = "shoplab.orders.events.OrderPlaced"
    assert value(orders, "shoplab_messages_published_total", subject=placed) >= 1
    assert value(orders, "shoplab_outbox_backlog", outbox="orders_outbox") >= 0
    assert value(orders, "shoplab_outbox_oldest_age_seconds", outbox="orders_outbox") >= 0
    assert value(orders, "shoplab_messages_consumed_total", outcome="ack") >= 1
    placements = {"method": "POST", "route": "/api/orders", "status": "202"}
    assert value(orders, "shoplab_http_requests_total", **placements) >= 1
    assert value(orders, "shoplab_http_request_duration_seconds_count", route="/api/orders") >= 1
    if system.mode.cli_mode == "microservices":
        saga = {"style": str(system.mode.saga), "outcome": "approved"}
        assert value(orders, "shoplab_saga_outcomes_total", **saga) >= 1
        assert value(orders, "shoplab_saga_duration_seconds_count", **saga) >= 1
        assert value(orders, "shoplab_grpc_client_handled_total", grpc_code="OK") >= 1
        catalog = {"caller": "orders", "dependency": "catalog"}
        assert value(orders, "shoplab_breaker_state", **catalog) == 0
        assert value(orders, "shoplab_bulkhead_in_use", **catalog) >= 0
        assert value(orders, "shoplab_dead_letters_total") == 0
        served = await metrics_of(processes, "catalog-1")
        assert value(served, "shoplab_grpc_server_handled_total", grpc_code="OK") >= 1
