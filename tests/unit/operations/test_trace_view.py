"""``shoplab trace`` from span files as the processes leave them: spread, rotated, cut short."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from shoplab.cli.trace import ON_PATH, trace_command
from shoplab.operations.traces import (
    Span,
    critical_path,
    load_spans,
    root_of,
    slowest_order_traces,
    spans_of_traces_mentioning,
    to_json,
    trace_spans,
    traces_of_order,
    tree,
)

T0 = datetime(2026, 11, 25, 3, 20, 1, 123456, tzinfo=UTC)
ORDER, OTHER_ORDER = "9b2c0f4e-0001", "9b2c0f4e-0002"
PLACEMENT, CANCEL, OTHER, CATALOG = "a" * 32, "b" * 32, "c" * 32, "d" * 32
ROOT, LONG, SAVE, LAST, RESERVE, CHARGE, NOTIFY, ORPHAN = (f"{n:016x}" for n in range(1, 9))
LOST_PARENT = "f" * 16


def record(
    trace: str,
    span_id: str,
    parent: str | None,
    service: str,
    name: str,
    ms: tuple[float, float],
    *,
    order: str | None = None,
    status: str = "OK",
) -> dict[str, Any]:
    start, end = (T0 + timedelta(milliseconds=m) for m in ms)
    return {
        "trace_id": trace,
        "span_id": span_id,
        "parent_id": parent,
        "service": service,
        "instance": f"{service}-1",
        "name": name,
        "kind": "SERVER",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "status": status,
        "attributes": {"order_id": order} if order else {},
    }


# The placement: under LAST, RESERVE is the longest child and NOTIFY the last to start,
# but CHARGE ends last: only the "ends last" rule walks ROOT -> LAST -> CHARGE.
PLACEMENT_SPANS = [
    record(PLACEMENT, ROOT, None, "gateway", "POST /api/orders", (0, 100), order=ORDER),
    record(PLACEMENT, LONG, ROOT, "orders", "POST /orders", (5, 70), order=ORDER),
    record(PLACEMENT, SAVE, LONG, "orders", "INSERT orders", (10, 30)),
    record(PLACEMENT, LAST, ROOT, "orders", "handle PlaceOrder", (40, 95), order=ORDER),
    record(PLACEMENT, RESERVE, LAST, "inventory", "inventory.Reserve", (41, 80)),
    record(PLACEMENT, CHARGE, LAST, "payments", "payments.Charge", (60, 94), status="ERROR"),
    record(PLACEMENT, NOTIFY, LAST, "notifications", "publish OrderPlaced", (70, 75)),
    record(PLACEMENT, ORPHAN, LOST_PARENT, "notifications", "handle OrderRejected", (96, 99)),
]
# Later traces: a cancellation of the same order, a slower order, and a request about none.
B1, B2, C1, C2, D1, D2 = (f"{n:016x}" for n in range(11, 17))
CANCEL_SPANS = [
    record(CANCEL, B1, None, "gateway", "POST /api/orders/{id}/cancel", (9000, 9020), order=ORDER),
    record(CANCEL, B2, B1, "orders", "POST /orders/{id}/cancel", (9002, 9015), order=ORDER),
]
OTHER_SPANS = [
    record(OTHER, C1, None, "gateway", "POST /api/orders", (5000, 5300), order=OTHER_ORDER),
    record(OTHER, C2, C1, "orders", "POST /orders", (5010, 5290), order=OTHER_ORDER),
]
CATALOG_SPANS = [  # the longest trace, but about no order
    record(CATALOG, D1, None, "gateway", "GET /api/products", (1000, 1500)),
    record(CATALOG, D2, D1, "catalog", "GET /products", (1005, 1495)),
]
EVERY_SPAN = PLACEMENT_SPANS + CANCEL_SPANS + OTHER_SPANS + CATALOG_SPANS


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Each process's file, later traces written first, one file rotated, one cut short."""
    files: dict[str, list[dict[str, Any]]] = {}
    for span in reversed(EVERY_SPAN):
        name = "orders-1.jsonl.1" if span["span_id"] == SAVE else f"{span['instance']}.jsonl"
        files.setdefault(name, []).append(span)
    folder = tmp_path / "traces"
    folder.mkdir()
    for name, spans in files.items():
        (folder / name).write_text("".join(json.dumps(span) + "\n" for span in spans))
    with (folder / "orders-1.jsonl").open("a") as orders:
        orders.write('{"trace_id": "not a span"}\n')
        orders.write(
            json.dumps({**PLACEMENT_SPANS[1], "trace_id": None, "span_id": "e" * 16}) + "\n"
        )
    with (folder / "gateway-1.jsonl").open("a") as gateway:
        gateway.write(json.dumps(PLACEMENT_SPANS[0])[:40])  # a process writing right now
    return tmp_path


def spans_of(data_dir: Path, trace_id: str) -> list[Span]:
    return trace_spans(load_spans(data_dir), trace_id)


def test_every_whole_span_of_every_file_is_loaded(data_dir: Path) -> None:
    spans = load_spans(data_dir)

    assert sorted(s.span_id for s in spans) == sorted(r["span_id"] for r in EVERY_SPAN)
    root = next(s for s in spans if s.span_id == ROOT)
    assert root.start == T0
    assert root.duration == timedelta(milliseconds=100)


def test_the_traces_of_an_order_are_read_whole_and_no_other(data_dir: Path) -> None:
    spans = spans_of_traces_mentioning(data_dir, OTHER_ORDER)

    assert sorted(s.span_id for s in spans) == sorted(r["span_id"] for r in OTHER_SPANS)
    placement = {s.trace_id for s in spans_of_traces_mentioning(data_dir, ORDER)}
    assert placement == {PLACEMENT, CANCEL}
    assert spans_of_traces_mentioning(data_dir, "unknown") == []


def test_no_traces_folder_is_no_spans(tmp_path: Path) -> None:
    assert load_spans(tmp_path) == []


def test_an_orders_traces_start_with_its_placement(data_dir: Path) -> None:
    spans = load_spans(data_dir)

    assert traces_of_order(spans, ORDER) == [PLACEMENT, CANCEL]
    assert traces_of_order(spans, OTHER_ORDER) == [OTHER]
    assert traces_of_order(spans, "unknown") == []


def test_the_tree_nests_children_by_start_and_keeps_orphans(data_dir: Path) -> None:
    rows = tree(spans_of(data_dir, PLACEMENT))

    assert [(r.span.span_id, r.depth, r.parent_missing) for r in rows] == [
        (ROOT, 0, False),
        (LONG, 1, False),
        (SAVE, 2, False),
        (LAST, 1, False),
        (RESERVE, 2, False),
        (CHARGE, 2, False),
        (NOTIFY, 2, False),
        (ORPHAN, 0, True),
    ]


def test_the_critical_path_follows_the_child_that_ends_last(data_dir: Path) -> None:
    assert critical_path(spans_of(data_dir, PLACEMENT)) == {ROOT, LAST, CHARGE}


def test_the_critical_path_follows_a_message_past_the_end_of_its_request(
    data_dir: Path,
) -> None:
    """A publish ends at once, but the consumer it starts ends last: the path goes there."""
    root, slow, publish, consume = (f"{n:016x}" for n in range(31, 35))
    spans = [
        Span.from_record(r)
        for r in (
            record(CANCEL, root, None, "gateway", "POST /api/orders", (0, 50)),
            record(CANCEL, slow, root, "orders", "INSERT orders", (5, 45)),
            record(CANCEL, publish, root, "orders", "publish OrderPlaced", (10, 12)),
            record(CANCEL, consume, publish, "inventory", "process OrderPlaced", (60, 90)),
        )
    ]

    assert critical_path(spans) == {root, publish, consume}


def test_without_its_root_a_trace_starts_from_its_earliest_orphan(data_dir: Path) -> None:
    rootless = [s for s in spans_of(data_dir, PLACEMENT) if s.span_id != ROOT]

    assert root_of(rootless).span_id == LONG
    assert critical_path(rootless) == {LONG, SAVE}


def test_the_slowest_traces_are_those_of_orders_longest_first(data_dir: Path) -> None:
    spans = load_spans(data_dir)

    assert [s.trace_id for s in slowest_order_traces(spans, 10)] == [OTHER, PLACEMENT, CANCEL]
    other, placement = slowest_order_traces(spans, 2)
    assert (other.order_id, other.duration) == (OTHER_ORDER, timedelta(milliseconds=300))
    assert (placement.order_id, placement.root_name) == (ORDER, "POST /api/orders")
    assert placement.span_count == 8
    assert placement.services == ("gateway", "orders", "inventory", "payments", "notifications")


def test_the_json_of_a_trace(data_dir: Path) -> None:
    shown = to_json(PLACEMENT, load_spans(data_dir))

    assert set(shown) == {"trace_id", "spans"}
    assert shown["trace_id"] == PLACEMENT
    required = {"trace_id", "span_id", "parent_id", "service", "name", "start", "end", "status"}
    for span in shown["spans"]:
        assert (
            required | {"attributes"} <= set(span) <= required | {"attributes", "instance", "kind"}
        )
    assert [s["span_id"] for s in shown["spans"]] == [r["span_id"] for r in PLACEMENT_SPANS]
    assert shown["spans"][0] == PLACEMENT_SPANS[0]


def shoplab_trace(*args: str, env: dict[str, str | None] | None = None) -> Result:
    app = typer.Typer()
    app.command()(trace_command)
    quiet = {"OTEL_EXPORTER_OTLP_ENDPOINT": None, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": None}
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **quiet, **(env or {})})


def row(output: str, operation: str) -> str:
    return next(line for line in output.splitlines() if f" {operation} " in line)


def test_the_waterfall_marks_the_slowest_path(data_dir: Path) -> None:
    result = shoplab_trace(ORDER, "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    assert f"trace {PLACEMENT}" in result.output
    assert "100.0 ms" in result.output
    for service in ("gateway", "orders", "inventory", "payments", "notifications"):
        assert service in result.output
    for on_path in ("POST /api/orders", "handle PlaceOrder", "payments.Charge"):
        assert ON_PATH in row(result.output, on_path)
    for off_path in ("POST /orders", "INSERT orders", "inventory.Reserve", "publish OrderPlaced"):
        assert ON_PATH not in row(result.output, off_path)
    assert "ERROR" in row(result.output, "payments.Charge")
    assert "(parent not found)" in row(result.output, "handle OrderRejected")
    assert f"{CANCEL}" in result.output
    assert "--trace-id" in result.output


def test_another_trace_of_the_order_by_its_id(data_dir: Path) -> None:
    result = shoplab_trace(ORDER, "--trace-id", CANCEL, "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    assert f"trace {CANCEL}" in result.output
    assert ON_PATH in row(result.output, "POST /api/orders/{id}/cancel")
    assert "inventory" not in result.output


def test_the_json_of_the_orders_placement(data_dir: Path) -> None:
    result = shoplab_trace(ORDER, "--json", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["trace_id"] == PLACEMENT
    assert len(shown["spans"]) == len(PLACEMENT_SPANS)


def test_the_slowest_order_traces(data_dir: Path) -> None:
    table = shoplab_trace("--slowest", "2", "--data-dir", str(data_dir))
    listed = shoplab_trace("--slowest", "2", "--json", "--data-dir", str(data_dir))

    assert table.exit_code == 0, table.output
    assert table.output.index(OTHER) < table.output.index(PLACEMENT)
    assert CATALOG not in table.output
    assert CANCEL not in table.output
    assert [t["order_id"] for t in json.loads(listed.output)] == [OTHER_ORDER, ORDER]


def test_a_data_folder_without_spans(tmp_path: Path) -> None:
    result = shoplab_trace(ORDER, "--data-dir", str(tmp_path))
    sent = shoplab_trace(
        ORDER, "--data-dir", str(tmp_path), env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}
    )

    assert result.exit_code == 1
    assert f"no spans under {tmp_path / 'traces'}" in result.output
    assert "collector" not in result.output
    assert sent.exit_code == 1
    assert "http://otel:4318" in sent.output
    assert "collector" in sent.output


def test_an_order_without_a_trace_yet(data_dir: Path) -> None:
    result = shoplab_trace("unknown", "--data-dir", str(data_dir))

    assert result.exit_code == 1
    assert "no trace of order unknown yet" in result.output


def test_nothing_asked(data_dir: Path) -> None:
    result = shoplab_trace("--data-dir", str(data_dir))

    assert result.exit_code == 1
    assert "--slowest" in result.output
