"""``shoplab logs``: the processes' files read together, filtered, merged by time, followed."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from shoplab.cli.logs import logs_command
from shoplab.operations.logs import LogFilter, LogLine, follow, read_logs

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ORDER = "9b2c6f1e-0000-4000-8000-000000000001"
TRACEBACK = ["Traceback (most recent call last):", "ImportError: cannot import name 'x'"]


def at(second: float) -> datetime:
    return datetime(2026, 11, 25, 3, 20, 0, tzinfo=UTC).replace(
        second=int(second), microsecond=int(second % 1 * 1_000_000)
    )


def record(event: str, second: float, process: str, **fields: Any) -> str:
    """A line as structlog writes it: ``time`` in ISO 8601 with a ``Z``."""
    service, instance = process.rsplit("-", 1)
    stamp = at(second).isoformat().replace("+00:00", "Z")
    line = {"event": event, "level": "info", "time": stamp, "service": service}
    return json.dumps({**line, "instance": instance, **fields})


def nats_line(second: float, message: str) -> str:
    """The NATS server's own format, in the machine's local time."""
    local = at(second).astimezone()
    return f"[4242] {local.strftime('%Y/%m/%d %H:%M:%S.%f')} [INF] {message}"


def write(logs: Path, process: str, *lines: str, end: str = "\n") -> None:
    logs.mkdir(exist_ok=True)
    with (logs / f"{process}.log").open("a") as file:
        file.write("\n".join(lines) + end)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A microservices run's logs: the broker, two orders instances and the gateway."""
    folder = tmp_path / "logs"
    write(folder, "nats-1", nats_line(0.5, "Starting nats-server"), nats_line(6, "slow consumer"))
    write(
        folder,
        "orders-1",
        *TRACEBACK,
        record("order placed", 2, "orders-1", order_id=ORDER, trace_id=TRACE),
        record("payment failed", 5, "orders-1", level="warning", order_id="other"),
    )
    write(folder, "orders-2", record("registered", 1, "orders-2"))
    write(
        folder,
        "gateway-1",
        record("upstream failed", 3, "gateway-1", trace_id=TRACE),
        '{"event": "half-wri',
        end="",
    )
    return folder


def texts(lines: list[LogLine]) -> list[str]:
    return [line.record["event"] if line.record else line.text for line in lines]


def test_the_files_are_merged_in_time_order(logs: Path) -> None:
    _, lines = read_logs(logs, LogFilter())

    assert texts(lines) == [
        nats_line(0.5, "Starting nats-server"),
        "registered",
        *TRACEBACK,
        "order placed",
        "upstream failed",
        '{"event": "half-wri',
        "payment failed",
        nats_line(6, "slow consumer"),
    ]


def test_raw_lines_belong_to_their_process_and_service(logs: Path) -> None:
    _, lines = read_logs(logs, LogFilter())
    raw = {line.text: line for line in lines if line.record is None}

    assert raw[TRACEBACK[0]].as_record() == {
        "service": "orders",
        "instance": "orders-1",
        "raw": TRACEBACK[0],
    }
    assert raw['{"event": "half-wri'].service == "gateway"
    assert raw[nats_line(6, "slow consumer")].service == "nats"
    assert raw[nats_line(6, "slow consumer")].time == at(6)


def test_a_service_matches_each_of_its_instances_and_an_instance_itself(logs: Path) -> None:
    _, orders = read_logs(logs, LogFilter(services=["orders"]))
    _, second = read_logs(logs, LogFilter(services=["orders-2"]))
    _, broker_and_gateway = read_logs(logs, LogFilter(services=["nats", "gateway"]))

    assert {line.process for line in orders} == {"orders-1", "orders-2"}
    assert texts(second) == ["registered"]
    assert {line.process for line in broker_and_gateway} == {"nats-1", "gateway-1"}


def test_order_and_trace_filters_match_ids_or_their_start_and_no_raw_line(logs: Path) -> None:
    _, by_order = read_logs(logs, LogFilter(order=ORDER))
    _, by_trace = read_logs(logs, LogFilter(trace=TRACE[:8].upper()))
    _, both = read_logs(logs, LogFilter(services=["gateway"], trace=TRACE))

    assert texts(by_order) == ["order placed"]
    assert texts(by_trace) == ["order placed", "upstream failed"]
    assert texts(both) == ["upstream failed"]


def test_tail_keeps_the_last_matching_lines(logs: Path) -> None:
    _, last_two = read_logs(logs, LogFilter(services=["orders"]), tail=2)
    _, none = read_logs(logs, LogFilter(), tail=0)

    assert texts(last_two) == ["order placed", "payment failed"]
    assert none == []


def stop_after(polls: int, between: Callable[[int], None]) -> tuple[Callable[[], bool], Any]:
    """A stop condition and a sleep that changes the files at each poll instead of waiting."""
    done = [0]

    def should_stop() -> bool:
        return done[0] >= polls

    def sleep(_seconds: float) -> None:
        between(done[0])
        done[0] += 1

    return should_stop, sleep


def test_follow_prints_appended_lines_then_files_that_appear_later(logs: Path) -> None:
    folder, _ = read_logs(logs, LogFilter(services=["orders", "gateway"]), final=False)

    def change(poll: int) -> None:
        if poll == 0:
            write(logs, "orders-2", record("order shipped", 7, "orders-2"))
        if poll == 1:
            write(logs, "gateway-1", 'tten"}')  # the half-written line, finished
            write(logs, "orders-3", record("registered", 8, "orders-3"))
            write(logs, "nats-1", nats_line(8, "not asked for"))

    should_stop, sleep = stop_after(3, change)
    batches = list(
        follow(
            folder, LogFilter(services=["orders", "gateway"]), should_stop=should_stop, sleep=sleep
        )
    )

    assert [texts(batch) for batch in batches] == [
        ["order shipped"],
        ["half-written", "registered"],
    ]
    assert batches[1][1].process == "orders-3"


def test_follow_stops_when_asked_before_polling(logs: Path) -> None:
    folder, _ = read_logs(logs, LogFilter())

    def never(_seconds: float) -> None:
        raise AssertionError("slept after being told to stop")

    assert list(follow(folder, LogFilter(), should_stop=lambda: True, sleep=never)) == []


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("logs")(logs_command)
    app.command("other")(lambda: None)  # two commands: `logs` is called by its name
    return app


def test_the_command_prints_readable_lines(logs: Path) -> None:
    result = CliRunner().invoke(cli(), ["logs", "--data-dir", str(logs.parent)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"03:20:02.000 orders-1 info order placed order_id={ORDER} trace_id=4bf92f35" in lines
    assert "03:20:05.000 orders-1 warning payment failed order_id=other" in lines
    assert f"03:20:02.000 orders-1 {TRACEBACK[0]}" in lines
    assert lines[0].endswith("nats-1 " + nats_line(0.5, "Starting nats-server"))


def test_the_command_prints_json_records_with_service_and_instance(logs: Path) -> None:
    result = CliRunner().invoke(
        cli(), ["logs", "--data-dir", str(logs.parent), "--json", "--tail", "3"]
    )

    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["service"], r["instance"]) for r in records] == [
        ("gateway", "gateway-1"),
        ("orders", "1"),
        ("nats", "nats-1"),
    ]
    assert records[0]["raw"] == '{"event": "half-wri'
    assert records[1]["order_id"] == "other"


def test_the_command_filters_through_its_options(logs: Path) -> None:
    args = ["logs", "--data-dir", str(logs.parent), "--json", "--service", "orders"]
    result = CliRunner().invoke(cli(), [*args, "--trace", TRACE])

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["event"] for line in result.output.splitlines()] == ["order placed"]


def test_without_a_logs_folder_the_command_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["logs", "--data-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "no logs in" in result.output
