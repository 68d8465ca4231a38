"""Probing the readiness of a run's processes, each on the URL its spec names."""

import asyncio

import httpx

from shoplab.runtime.state import ProcessState, RunState, pid_alive


async def probe(client: httpx.AsyncClient, process: ProcessState) -> str:
    """``ready``, ``unready`` (answers, not ready) or ``down`` (no answer)."""
    if not pid_alive(process.pid):
        return "down"
    url = process.ready_url or f"http://127.0.0.1:{process.ports['http']}/health/ready"
    try:
        answer = await client.get(url)
    except httpx.HTTPError:
        return "down"
    return "ready" if answer.status_code == 200 else "unready"


async def probe_all(run: RunState) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        results = await asyncio.gather(*(probe(client, p) for p in run.processes))
    return {p.name: result for p, result in zip(run.processes, results, strict=True)}
