"""The command line: health, ``status --json``, ``down`` and stopping on a signal.

Stop tests start their own short-lived system per mode, so the shared one stays up.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from .api import System
from .launcher import (
    CLI_TIMEOUT_S,
    STOP_TIMEOUT_S,
    Launched,
    pid_alive,
    start_cli,
    status_processes,
    wait_pids_gone,
)


def listed_pids(data_dir: Path) -> list[int]:
    processes = status_processes(data_dir)
    assert processes, "shoplab status lists no process for a running system"
    return [int(process["pid"]) for process in processes]


def port_numbers(ports: Any) -> list[Any]:
    """Ports as listed by ``status``: a plain list, or a mapping of purpose to port."""
    return list(ports.values()) if isinstance(ports, dict) else list(ports)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def assert_fully_stopped(launched: Launched, pids: list[int]) -> None:
    alive = wait_pids_gone([*pids, launched.process.pid])
    assert alive == [], f"processes left behind: {alive}; output:\n{launched.output(4000)}"
    assert port_is_free(launched.port), f"port {launched.port} still in use after stop"


async def test_health_endpoints_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/health/ready")).status_code == 200


def test_status_lists_a_live_ready_process(system: System) -> None:
    """``status --json`` names real, live processes, one of them serving the public port."""
    processes = status_processes(system.data_dir)
    assert processes, "no process listed"
    for process in processes:
        assert set(process) >= {"name", "pid", "ports", "health"}, process
        assert isinstance(process["name"], str), process
        assert isinstance(process["pid"], int), process
        assert isinstance(process["ports"], list | dict), process
        assert pid_alive(process["pid"]), f"listed pid {process['pid']} is not alive"
    assert any(process["health"] == "ready" for process in processes), processes
    served = {int(port) for process in processes for port in port_numbers(process["ports"])}
    assert system.port in served, (system.port, processes)


def test_down_stops_every_process(fresh_system: Launched) -> None:
    """``down`` from another terminal stops the system, which exits 0 and leaves nothing.

    The test reaps ``shoplab up`` while ``down`` runs, as the shell that started it would.
    """
    pids = listed_pids(fresh_system.data_dir)

    down = start_cli("down", "--data-dir", str(fresh_system.data_dir))
    try:
        code = fresh_system.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        code = None
    try:
        stdout, stderr = down.communicate(timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        down.kill()
        down.communicate()
        raise

    assert code == 0, f"exit code {code} after down; output:\n{fresh_system.output(4000)}"
    assert down.returncode == 0, (stdout, stderr[-2000:])
    assert_fully_stopped(fresh_system, pids)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(fresh_system: Launched, sig: signal.Signals) -> None:
    """A signal to ``shoplab up`` stops it within the deadline with exit code 0, no orphans."""
    pids = listed_pids(fresh_system.data_dir)

    fresh_system.process.send_signal(sig)

    with contextlib.suppress(subprocess.TimeoutExpired):
        fresh_system.process.wait(timeout=STOP_TIMEOUT_S)
    assert fresh_system.process.returncode == 0, (
        f"exit code {fresh_system.process.returncode}; output:\n{fresh_system.output(4000)}"
    )
    assert_fully_stopped(fresh_system, pids)
