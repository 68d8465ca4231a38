"""The gateway's readiness: it is ready only when every service it routes to is.

Each check asks one service's ``/health/ready`` with a short deadline, so a
hung service makes the gateway unready rather than making its probe hang.
"""

import asyncio

from shoplab.gateway.upstreams import Upstreams
from shoplab.platform.http.app import ReadinessCheck

PROBE_TIMEOUT_SECONDS = 1.0


def service_checks(
    upstreams: Upstreams, timeout: float = PROBE_TIMEOUT_SECONDS
) -> dict[str, ReadinessCheck]:
    """One readiness check per service, named after it."""
    return {name: _probe(upstreams, name, timeout) for name in sorted(upstreams.services)}


def _probe(upstreams: Upstreams, service: str, timeout: float) -> ReadinessCheck:
    async def ready() -> bool:
        try:
            async with asyncio.timeout(timeout):
                answer = await upstreams.request(
                    service, "GET", "/health/ready", headers={}, resilient=False
                )
        except Exception:
            return False
        return answer.status_code == 200

    return ready
