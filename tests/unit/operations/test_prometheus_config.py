"""``shoplab prometheus-config``: one scrape job per service, one target per instance."""

import os
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from shoplab.cli.prometheus import prometheus_config_command
from shoplab.operations.prometheus import render, scrape_config
from shoplab.runtime import state


def microservices_run(data_dir: Path, supervisor_pid: int) -> state.RunState:
    """The broker, orders scaled to two, payments (with gRPC) and the gateway."""
    processes = [
        state.ProcessState("nats-1", 101, {"client": 41000, "monitor": 41001}),
        state.ProcessState("orders-1", 102, {"http": 41002}),
        state.ProcessState("payments-1", 103, {"http": 41003, "grpc": 41004}),
        state.ProcessState("orders-2", 104, {"http": 41005}),
        state.ProcessState("gateway-1", 105, {"http": 8080}),
    ]
    return state.RunState(
        supervisor_pid,
        "microservices",
        "http://127.0.0.1:8080",
        str(data_dir),
        processes,
        "nats://127.0.0.1:41000",
    )


def jobs(config: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Each job's targets with their ``instance_name``."""
    return {
        job["job_name"]: [
            (target, group["labels"]["instance_name"])
            for group in job["static_configs"]
            for target in group["targets"]
        ]
        for job in config["scrape_configs"]
    }


def test_one_job_per_service_and_one_target_per_instance(tmp_path: Path) -> None:
    config = yaml.safe_load(render(scrape_config(microservices_run(tmp_path, 1), 5)))

    assert jobs(config) == {
        "orders": [("127.0.0.1:41002", "orders-1"), ("127.0.0.1:41005", "orders-2")],
        "payments": [("127.0.0.1:41003", "payments-1")],
        "gateway": [("127.0.0.1:8080", "gateway-1")],
    }
    assert {job["metrics_path"] for job in config["scrape_configs"]} == {"/metrics"}
    assert config["global"] == {"scrape_interval": "5s", "scrape_timeout": "5s"}


def test_the_monolith_is_one_job(tmp_path: Path) -> None:
    processes = [state.ProcessState("monolith-1", 7, {"http": 8080})]
    run = state.RunState(1, "monolith", "http://127.0.0.1:8080", str(tmp_path), processes)

    assert jobs(scrape_config(run, 15)) == {"monolith": [("127.0.0.1:8080", "monolith-1")]}


@pytest.mark.parametrize(("interval", "timeout"), [(1, "1s"), (10, "10s"), (60, "10s")])
def test_the_scrape_timeout_never_exceeds_the_interval(interval: int, timeout: str) -> None:
    run = state.RunState(1, "monolith", "http://127.0.0.1:8080", "/nowhere")

    assert scrape_config(run, interval)["global"]["scrape_timeout"] == timeout


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("prometheus-config")(prometheus_config_command)
    app.command("other")(lambda: None)  # two commands: it is called by its name
    return app


def test_the_command_prints_the_running_runs_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # state.read also wants "shoplab" in the supervisor's command line, which pytest's lacks
    monkeypatch.setattr(state, "supervisor_alive", lambda pid: pid == os.getpid())
    state.write(microservices_run(tmp_path, os.getpid()), tmp_path)

    result = CliRunner().invoke(
        cli(), ["prometheus-config", "--data-dir", str(tmp_path), "--interval", "30"]
    )

    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.output)
    assert config["global"]["scrape_interval"] == "30s"
    assert list(jobs(config)) == ["orders", "payments", "gateway"]


def test_the_command_refuses_when_nothing_runs(tmp_path: Path) -> None:
    dead = microservices_run(tmp_path, supervisor_pid=2**22 + 1)  # above Linux's pid_max
    state.write(dead, tmp_path)

    result = CliRunner().invoke(cli(), ["prometheus-config", "--data-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "shoplab is not running" in result.output
