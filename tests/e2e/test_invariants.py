"""The five invariants of API.md under a concurrent, seeded, mixed workload.

The workload and the checks live in ``workload.py``; this test runs them against every
mode with nothing broken, and records the figures (throughput, placement latency, time
to the final status) that the closing notes compare across modes.
"""

import httpx

from .api import System
from .workload import Workload, assert_invariants, run_workload


async def test_invariants_hold_under_concurrent_workload(
    system: System, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    outcome = await run_workload(client, admin, Workload(), name=system.mode.name)
    await assert_invariants(client, admin, outcome)
