"""The gateway's added latency: the same read through the gateway and straight to its owner.

One client sends the same ``GET`` alternately to the gateway's public port and to the
owning service's own port, one request at a time over kept-alive connections, so both
paths see the same machine, the same data and the same warm caches. The difference of
the medians is what the gateway adds: routing, verifying the customer's token, the rate
limit, minting the internal token, and the second hop. The direct call carries the
internal token a gateway would send (``direct_headers``), since a service refuses a
request without one.
"""

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import jwt

from shoplab.platform.auth import Principal
from shoplab.platform.internal_auth import ServiceCredentials, load_service_secret

ISSUER = "bench"
"""The issuer of the internal token of the direct calls (services accept any issuer)."""


@dataclass(frozen=True)
class Latencies:
    """Percentiles of one path's latency, in milliseconds."""

    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> "Latencies":
        cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
        return cls(p50=cuts[49], p95=cuts[94], p99=cuts[98])


@dataclass(frozen=True)
class GatewayOverhead:
    """The latency through the gateway, straight to the service, and the difference."""

    gateway: Latencies
    direct: Latencies
    added_p50_ms: float
    requests: int
    """Requests measured on each path (the warm-up excluded)."""


def direct_headers(data_dir: Path, access_token: str) -> dict[str, str]:
    """The ``Authorization`` a gateway would send on behalf of ``access_token``'s customer.

    The token's claims are read, not verified: it is the benchmark's own. The internal
    token lives 60 s (``service_auth.TOKEN_TTL_SECONDS``): make a new one for each run.
    """
    claims = jwt.decode(access_token, options={"verify_signature": False})
    principal = Principal(customer_id=str(claims["sub"]), role=str(claims["role"]))
    return ServiceCredentials(load_service_secret(data_dir), ISSUER).headers(principal)


async def measure_gateway_overhead(
    gateway_url: str,
    service_url: str,
    *,
    path: str,
    gateway_headers: Mapping[str, str],
    service_headers: Mapping[str, str],
    requests: int = 2000,
    warmup: int = 200,
) -> GatewayOverhead:
    """Send ``GET path`` ``warmup + requests`` times on each path, alternately, one at a time.

    The two paths take turns going first, so neither is always the one that meets a
    cold cache or a pending timer. Any answer but 200 stops the run: a refusal is
    faster than a real read and would flatter the figure.
    """
    if requests < 2:
        raise ValueError("at least two requests are needed for percentiles")
    through: list[float] = []
    direct: list[float] = []
    connector = aiohttp.TCPConnector(limit=2)
    async with aiohttp.ClientSession(connector=connector) as session:
        paths = (
            (gateway_url.rstrip("/") + path, dict(gateway_headers), through),
            (service_url.rstrip("/") + path, dict(service_headers), direct),
        )
        for index in range(warmup + requests):
            for url, headers, samples in paths if index % 2 else reversed(paths):
                elapsed = await _timed_get(session, url, headers)
                if index >= warmup:
                    samples.append(elapsed)
    gateway, straight = Latencies.of(through), Latencies.of(direct)
    return GatewayOverhead(gateway, straight, gateway.p50 - straight.p50, requests)


async def _timed_get(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    """One read, body included, in milliseconds."""
    started = time.perf_counter()
    async with session.get(url, headers=headers) as answer:
        await answer.read()
        status = answer.status
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"GET {url} answered {status}, not 200")
    return elapsed
