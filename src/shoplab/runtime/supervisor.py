"""The supervisor: starts a plan's processes, restarts the ones that die, stops them all.

Each child writes its output to ``<data-dir>/logs/<name>.log``. shoplab's own Python
processes are forked by a preloaded parent (``launcher``), which imported the chassis
once; other programs (the embedded NATS server) are started as usual. The supervisor binds
each child's HTTP port itself, when the plan is read, and hands the listening socket
down (``platform.serve``): no other program can take the port between the plan and the
child's start, and a restarted child serves on the same socket at once. Children
are asked by the kernel to die with the supervisor (``PR_SET_PDEATHSIG``), so
even a ``kill -9`` of the supervisor leaves no process behind. A child that dies
is restarted after an exponential backoff, and its restart count is kept in the
state file for ``shoplab status``.

A plan comes in stages: a process marked ``hold_next_until_ready`` (the broker)
must answer ready before the ones after it start, and they stop before it, so
that services can flush to the broker on their way down.
"""

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from shoplab.platform.http.server import LISTEN_FD_ENV
from shoplab.runtime import state
from shoplab.runtime.launcher import ForkedProcess, Launcher, die_with_parent
from shoplab.runtime.plans import Plan, ProcessSpec

STOP_GRACE_SECONDS = 10.0
LISTEN_BACKLOG = 2048
MAX_BACKOFF_SECONDS = 30.0


class Child:
    def __init__(self, spec: ProcessSpec, log_dir: Path, launcher: Launcher) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.process: asyncio.subprocess.Process | ForkedProcess | None = None
        self._launcher = launcher
        self.restarts = 0
        self.listener = _listening(spec.ports["http"]) if "http" in spec.ports else None

    async def start(self) -> None:
        env = {**os.environ, **self.spec.env}
        argv = self.spec.argv
        if argv[:2] == [sys.executable, "-m"]:  # one of ours: forked, already preloaded
            listener = self.listener.fileno() if self.listener is not None else None
            self.process = await self._launcher.spawn(
                argv[2], argv[3:], env, self.log_path, listener
            )
            return
        handed_down: tuple[int, ...] = ()
        if self.listener is not None:
            handed_down = (self.listener.fileno(),)
            env[LISTEN_FD_ENV] = str(self.listener.fileno())
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                pass_fds=handed_down,
                preexec_fn=die_with_parent,
            )

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)


class Supervisor:
    def __init__(self, mode: str, plan: Plan, data_dir: Path) -> None:
        self.mode, self.url, self.broker_url = mode, plan.url, plan.broker_url
        self.data_dir = data_dir
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.launcher = Launcher(log_dir / "launcher.log")
        self.children = [Child(spec, log_dir, self.launcher) for spec in plan.processes]
        self._stages = _stages(self.children)
        self._stopping = asyncio.Event()

    async def start(self, ready_timeout: float) -> bool:
        """Start the children stage by stage, each once the one before is ready.

        True when every child is ready; False when SIGINT or SIGTERM came first
        (the caller then stops what started). Raises StartFailed when a child
        exits or is not ready in time.
        """
        self._handle_stop_signals()
        deadline = time.monotonic() + ready_timeout
        for stage in self._stages:
            for child in stage:
                await child.start()
            self._save()
            if not await self._wait_ready(stage, deadline):
                return False
        return True

    async def run_until_stopped(self) -> None:
        """Watch the children until SIGINT or SIGTERM, then stop them all."""
        self._handle_stop_signals()
        watchers = [asyncio.create_task(self._watch(child)) for child in self.children]
        await self._stopping.wait()
        for watcher in watchers:
            watcher.cancel()
        await self.stop()

    async def stop(self) -> None:
        """Stop the last stage first: the gateway and services, then the broker."""
        for stage in reversed(self._stages):
            await _stop_all(stage)
        await self.launcher.stop()
        for child in self.children:
            child.close()
        state.remove(self.data_dir)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    def _handle_stop_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)

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

    async def _wait_ready(self, children: list[Child], deadline: float) -> bool:
        """Poll the children's readiness URLs together; False if asked to stop meanwhile."""
        pending = list(children)
        async with httpx.AsyncClient(timeout=1.0) as client:
            while pending and not self._stopping.is_set():
                for child in pending:
                    if child.process is not None and child.process.returncode is not None:
                        raise StartFailed(child, f"exited with code {child.process.returncode}")
                answers = await asyncio.gather(*(_answers_ready(client, c) for c in pending))
                pending = [c for c, ready in zip(pending, answers, strict=True) if not ready]
                if pending and time.monotonic() >= deadline:
                    raise StartFailed(pending[0], "did not become ready in time")
                if pending:
                    await asyncio.sleep(0.2)
        return not pending

    def _save(self) -> None:
        processes = [
            state.ProcessState(
                c.spec.name, c.pid, c.spec.ports, c.restarts, str(c.log_path), c.spec.ready_url
            )
            for c in self.children
        ]
        run = state.RunState(
            os.getpid(),
            self.mode,
            self.url,
            str(self.data_dir),
            processes,
            self.broker_url,
            self.launcher.pid,
        )
        state.write(run, self.data_dir)


class StartFailed(Exception):
    def __init__(self, child: Child, reason: str) -> None:
        super().__init__(f"{child.spec.name} {reason}; see {child.log_path}")
        self.child = child


def _listening(port: int) -> socket.socket:
    """A loopback socket listening on ``port``, for a child to serve on."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError:
        listener.close()
        raise
    listener.listen(LISTEN_BACKLOG)
    return listener


def _stages(children: list[Child]) -> list[list[Child]]:
    """Split the plan after each child that holds the next ones until it is ready."""
    stages: list[list[Child]] = [[]]
    for child in children:
        stages[-1].append(child)
        if child.spec.hold_next_until_ready:
            stages.append([])
    return [stage for stage in stages if stage]


async def _stop_all(children: list[Child]) -> None:
    """SIGTERM together, then SIGKILL whatever still runs after the grace period."""
    for child in children:
        child.stop()
    waits = [c.process.wait() for c in children if c.process is not None]
    try:
        await asyncio.wait_for(asyncio.gather(*waits), STOP_GRACE_SECONDS)
    except TimeoutError:
        for child in children:
            child.stop(signal.SIGKILL)
        await asyncio.gather(*(c.process.wait() for c in children if c.process is not None))


async def _answers_ready(client: httpx.AsyncClient, child: Child) -> bool:
    try:
        return (await client.get(child.spec.ready_url)).status_code == 200
    except httpx.HTTPError:
        return False
