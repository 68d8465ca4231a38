"""Probing the readiness of a run's processes, each on the URL its spec names."""

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from shoplab.runtime.state import ProcessState, RunState, pid_alive


@dataclass(frozen=True)
class Probe:
    health: str
    """``ready``, ``unready`` (answers, not ready) or ``down`` (no answer)."""
    faults: dict[str, Any] | None = None
    """The faults injected in the process (``shoplab fault``), when it reports them."""


async def probe(client: httpx.AsyncClient, process: ProcessState) -> Probe:
    if not pid_alive(process.pid):
        return Probe("down")
    url = process.ready_url or f"http://127.0.0.1:{process.ports['http']}/health/ready"
    try:
        answer = await client.get(url)
    except httpx.HTTPError:
        return Probe("down")
    health = "ready" if answer.status_code == 200 else "unready"
    try:
        faults = answer.json().get("faults")
    except ValueError:  # the broker's monitor answers in its own format
        faults = None
    return Probe(health, faults if isinstance(faults, dict) else None)


async def probe_all(run: RunState) -> dict[str, Probe]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        results = await asyncio.gather(*(probe(client, p) for p in run.processes))
    return {p.name: result for p, result in zip(run.processes, results, strict=True)}
