"""The five invariants of API.md under a concurrent, seeded, mixed workload.

The workload and the checks live in ``workload.py``; this test runs them against every
mode with nothing broken, and records the figures (throughput, placement latency, time
to the final status) that the docs compare across modes. The two modes whose figures
are quoted (``monolith`` and ``microservices``, the ones with lifecycle tests) carry the
full workload; the variants carry half of it, which keeps the suite's time in bounds.
"""

import httpx

from .api import System
from .workload import Workload, assert_invariants, run_workload

VARIANT_ORDERS = Workload.orders // 2


async def test_invariants_hold_under_concurrent_workload(
    system: System, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    workload = Workload() if system.mode.lifecycle else Workload(orders=VARIANT_ORDERS)
    outcome = await run_workload(client, admin, workload, name=system.mode.name)
    await assert_invariants(client, admin, outcome)
