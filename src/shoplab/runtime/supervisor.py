"""The supervisor: starts a plan's processes, restarts the ones that die, stops them all.

Each child writes its JSON log lines to ``<data-dir>/logs/<name>.log``. Children
are asked by the kernel to die with the supervisor (``PR_SET_PDEATHSIG``), so
even a ``kill -9`` of the supervisor leaves no process behind. A child that dies
is restarted after an exponential backoff, and its restart count is kept in the
state file for ``shoplab status``.
"""

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import time
from pathlib import Path

import httpx

from shoplab.runtime import state
from shoplab.runtime.plans import ProcessSpec

STOP_GRACE_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 30.0
_LIBC = ctypes.util.find_library("c")


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the supervisor goes away."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(_LIBC, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Child:
    def __init__(self, spec: ProcessSpec, log_dir: Path) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.restarts = 0

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, **self.spec.env},
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)


class Supervisor:
    def __init__(self, mode: str, url: str, data_dir: Path, specs: list[ProcessSpec]) -> None:
        self.mode, self.url, self.data_dir = mode, url, data_dir
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.children = [Child(spec, log_dir) for spec in specs]
        self._stopping = asyncio.Event()

    async def start(self, ready_timeout: float) -> None:
        """Start every child and wait until each answers ready; raise if one cannot."""
        for child in self.children:
            await child.start()
        self._save()
        deadline = time.monotonic() + ready_timeout
        for child in self.children:
            await _wait_ready(child, deadline)

    async def run_until_stopped(self) -> None:
        """Watch the children until SIGINT or SIGTERM, then stop them all."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)
        watchers = [asyncio.create_task(self._watch(child)) for child in self.children]
        await self._stopping.wait()
        for watcher in watchers:
            watcher.cancel()
        await self.stop()

    async def stop(self) -> None:
        for child in self.children:
            child.stop()
        waits = [c.process.wait() for c in self.children if c.process is not None]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), STOP_GRACE_SECONDS)
        except TimeoutError:
            for child in self.children:
                child.stop(signal.SIGKILL)
            await asyncio.gather(*waits)
        state.remove(self.data_dir)

    async def _watch(self, child: Child) -> None:
        while not self._stopping.is_set():
            assert child.process is not None
            await child.process.wait()
            if self._stopping.is_set():
                return
            delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**child.restarts)
            child.restarts += 1
            await asyncio.sleep(delay)
            await child.start()
            self._save()

    def _save(self) -> None:
        processes = [
            state.ProcessState(c.spec.name, c.pid, c.spec.ports, c.restarts, str(c.log_path))
            for c in self.children
        ]
        run = state.RunState(os.getpid(), self.mode, self.url, str(self.data_dir), processes)
        state.write(run, self.data_dir)


class StartFailed(Exception):
    def __init__(self, child: Child, reason: str) -> None:
        super().__init__(f"{child.spec.name} {reason}; see {child.log_path}")
        self.child = child


async def _wait_ready(child: Child, deadline: float) -> None:
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if child.process is not None and child.process.returncode is not None:
                raise StartFailed(child, f"exited with code {child.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(child.spec.ready_url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise StartFailed(child, "did not become ready in time")
