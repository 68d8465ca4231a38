"""Starting and stopping the floor (``shoplab.bench.floor``): its own broker, four processes.

The floor gets a NATS server of its own, configured as ``shoplab up`` configures the
embedded one, on free loopback ports, and a temporary folder for its four SQLite files.
"""

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import nats

from shoplab.bench.floor.common import STREAM, SUBJECTS
from shoplab.bench.jetstream import embedded_nats
from shoplab.runtime.ports import free_ports

PROCESSES = ("orders", "inventory", "payments", "notifications")
OUTCOME_SUBJECTS = ["floor.orders.events.OrderApproved"]
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class FloorFailed(Exception):
    """A floor process did not start; the message carries its output."""


@dataclass
class RunningFloor:
    url: str
    nats_url: str
    ready_seconds: float
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    nats_pid: int = 0

    def pids(self) -> dict[str, int]:
        pids = {name: process.pid for name, process in self.processes.items()}
        return {**pids, "nats": self.nats_pid}


@contextlib.asynccontextmanager
async def running(*, fsync: bool = False) -> AsyncIterator[RunningFloor]:
    """The floor, ready to take orders; stopped and deleted on leaving."""
    with tempfile.TemporaryDirectory(prefix="shoplab-bench-floor-") as name:
        folder = Path(name)
        started = time.perf_counter()
        async with embedded_nats(folder / "nats", fsync=fsync) as (nats_url, nats_pid):
            await _create_stream(nats_url)
            (port,) = free_ports(1)
            floor = RunningFloor(f"http://127.0.0.1:{port}", nats_url, 0.0, nats_pid=nats_pid)
            try:
                for process in PROCESSES:
                    argv = [sys.executable, "-m", f"shoplab.bench.floor.{process}", nats_url]
                    argv += [str(folder)] + ([str(port)] if process == "orders" else [])
                    log = (folder / f"{process}.log").open("wb")
                    floor.processes[process] = await asyncio.to_thread(
                        subprocess.Popen, argv, stdout=log, stderr=subprocess.STDOUT
                    )
                await _wait_ready(floor, folder, port)
                floor.ready_seconds = time.perf_counter() - started
                yield floor
            finally:
                await asyncio.to_thread(_stop, floor)


async def _create_stream(url: str) -> None:
    connection = await nats.connect(url)
    try:
        await connection.jetstream().add_stream(name=STREAM, subjects=SUBJECTS)
    finally:
        await connection.close()


async def _wait_ready(floor: RunningFloor, folder: Path, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, process in floor.processes.items():
            if process.poll() is not None:
                log = (folder / f"{name}.log").read_text(errors="replace")[-2000:]
                raise FloorFailed(f"floor process {name} exited at start:\n{log}")
        if all((folder / f"{name}.ready").exists() for name in PROCESSES):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
        await asyncio.sleep(0.05)
    raise FloorFailed(f"the floor was not ready within {READY_TIMEOUT_SECONDS:.0f} s")


def _stop(floor: RunningFloor) -> None:
    for process in floor.processes.values():
        if process.poll() is None:
            process.terminate()
    for process in floor.processes.values():
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
