"""One mode of shoplab started fresh for a measurement, as a learner starts it: ``shoplab up``.

Each start gets a new data folder and a free port, so no state carries over from one
mode to the next. The rate limiter stays on, with quotas high enough that a benchmark's
few customers are never refused: the limiter's cost is measured, its refusals are not.
"""

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from shoplab.runtime import state
from shoplab.runtime.ports import free_ports

BENCH_RATE_LIMITS = {
    "SHOPLAB_RATE_LIMIT_LOGIN": "100000/second",
    "SHOPLAB_RATE_LIMIT_PLACEMENT": "100000/second",
    "SHOPLAB_RATE_LIMIT_READS": "100000/second",
}
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


class StartFailed(Exception):
    """The mode did not become ready; the message carries the end of its output."""


@dataclass
class RunningSystem:
    """A started mode: where it answers, how to sign in as the administrator, its processes."""

    mode: str
    url: str
    data_dir: Path
    admin_password: str
    ready_seconds: float
    process: subprocess.Popen[bytes]

    def pids(self) -> dict[str, int]:
        """Every process of the run by name, the supervisor and the launcher included."""
        run = state.read(self.data_dir)
        if run is None:
            return {}
        pids = {"supervisor": run.supervisor_pid}
        if run.launcher_pid is not None:
            pids["launcher"] = run.launcher_pid
        pids.update({process.name: process.pid for process in run.processes})
        return pids

    def broker_url(self) -> str | None:
        """The run's NATS server (None in the monolith)."""
        run = state.read(self.data_dir)
        return run.broker_url if run else None

    def ports(self, name: str) -> dict[str, int]:
        """The ports of one process (``orders``: its HTTP and gRPC ports)."""
        run = state.read(self.data_dir)
        found = [p for p in run.processes if p.name == name] if run else []
        return found[0].ports if found else {}


async def start(
    mode: str, *, fsync: bool = False, extra_args: tuple[str, ...] = ()
) -> RunningSystem:
    """``shoplab up`` in a fresh data folder; returns once ``/health/ready`` answers 200."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"shoplab-bench-{mode}-"))
    (port,) = free_ports(1)
    password = secrets.token_urlsafe(16)
    command = [sys.executable, "-m", "shoplab", "up", "--mode", mode, "--port", str(port)]
    command += ["--data-dir", str(data_dir), *extra_args]
    if fsync:
        command += ["--fsync", "always"]
    env = {**os.environ, **BENCH_RATE_LIMITS, "SHOPLAB_ADMIN_PASSWORD": password}
    output = (data_dir / "bench-up.log").open("wb")
    started = time.perf_counter()
    process = await asyncio.to_thread(
        subprocess.Popen, command, env=env, stdout=output, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, process)
    except StartFailed:
        stop_process(process)
        log = (data_dir / "bench-up.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(data_dir, ignore_errors=True)
        raise StartFailed(f"{mode} did not start:\n{log}") from None
    ready = time.perf_counter() - started
    return RunningSystem(mode, url, data_dir, password, ready, process)


async def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StartFailed
            try:
                async with http.get(f"{url}/health/ready") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise StartFailed


def stop(system: RunningSystem) -> None:
    """Stop the run as ``shoplab down`` does, and remove its data folder."""
    stop_process(system.process)
    shutil.rmtree(system.data_dir, ignore_errors=True)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
