"""CPU seconds and resident memory of every process of a run, read with psutil.

CPU is the difference of each process's user and system time between two readings, so
it counts the work of the measured phase only. Peak memory is the largest resident size
seen by a sampler that reads every process four times a second while the phase runs.
"""

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psutil

SAMPLE_SECONDS = 0.25
MIB = 1024 * 1024


@dataclass(frozen=True)
class ProcessUse:
    name: str
    cpu_seconds: float
    peak_rss_mb: float


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


class ResourceMeter:
    """Reads the named processes at the start and the end of a phase, and samples between."""

    def __init__(self, pids: Callable[[], dict[str, int]]) -> None:
        """``pids`` is asked again at each sample: a restarted process gets a new pid."""
        self._pids = pids
        self._processes: dict[str, psutil.Process] = {}
        self._cpu_start: dict[str, float] = {}
        self._cpu_last: dict[str, float] = {}
        self._peak: dict[str, int] = {}
        self._sampler: asyncio.Task[None] | None = None

    def _refresh(self) -> None:
        for name, pid in self._pids().items():
            known = self._processes.get(name)
            if known is None or known.pid != pid:
                with contextlib.suppress(psutil.Error):
                    self._processes[name] = psutil.Process(pid)

    def _read(self) -> None:
        self._refresh()
        for name, process in self._processes.items():
            with contextlib.suppress(psutil.Error):
                self._cpu_last[name] = _cpu(process)
                self._cpu_start.setdefault(name, self._cpu_last[name])
                rss = int(process.memory_info().rss)
                self._peak[name] = max(self._peak.get(name, 0), rss)

    def start(self) -> None:
        self._read()
        self._sampler = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            self._read()

    async def stop(self) -> list[ProcessUse]:
        """The phase's use per process, largest CPU first."""
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        self._read()
        uses = [
            ProcessUse(
                name,
                round(self._cpu_last[name] - self._cpu_start[name], 3),
                round(self._peak[name] / MIB, 1),
            )
            for name in self._cpu_last
        ]
        return sorted(uses, key=lambda use: -use.cpu_seconds)


def memory_now(pids: dict[str, int]) -> dict[str, float]:
    """The memory of all the processes together, now, in MB.

    ``rss``: the sum of their resident sizes, which counts each shared page (a library
    mapped by every process) once per process. ``pss``: each shared page divided among
    the processes that map it, so the sum is what the system as a whole takes.
    """
    rss = pss = 0
    for pid in pids.values():
        with contextlib.suppress(psutil.Error):
            full = psutil.Process(pid).memory_full_info()
            rss += full.rss
            pss += getattr(full, "pss", full.rss)  # PSS is Linux's; elsewhere, RSS
    return {"rss_mb": round(rss / MIB, 1), "pss_mb": round(pss / MIB, 1)}


@contextlib.contextmanager
def own_cpu() -> Iterator[Callable[[], float]]:
    """The benchmark client's own CPU seconds since entering: it shares the machine."""
    me = psutil.Process()
    start = _cpu(me)
    yield lambda: round(_cpu(me) - start, 2)


def own_cpu_seconds() -> float:
    """The benchmark client's CPU seconds so far, every thread included."""
    return _cpu(psutil.Process())


async def idle_cpu(pids: Callable[[], dict[str, int]], seconds: float) -> dict[str, Any]:
    """Each process's CPU while nothing is asked of it, in ms per second.

    Timers, heartbeats, relays polling an empty outbox and registries renewing leases
    all cost CPU that no order pays for; this is that cost.
    """
    meter = ResourceMeter(pids)
    meter.start()
    await asyncio.sleep(seconds)
    uses = await meter.stop()
    per_process = {use.name: round(1000 * use.cpu_seconds / seconds, 1) for use in uses}
    return {
        "seconds": seconds,
        "ms_per_second": per_process,
        "total_ms_per_second": round(sum(per_process.values()), 1),
    }
