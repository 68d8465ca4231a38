"""The gateway's overhead benchmark, run small against the real gateway and a stand-in service."""

from pathlib import Path

import jwt
import pytest

from shoplab.bench.gateway import direct_headers, measure_gateway_overhead
from shoplab.gateway import routes
from shoplab.platform.auth import CUSTOMER, Principal
from shoplab.platform.internal_auth import AUDIENCE, ServiceCredentials, load_service_secret

from .test_gateway import ORDER, Answer, StandIn, TokenIssuer, bearer, caller_seen, gateway_for
from .test_gateway import data_dir as data_dir
from .test_gateway import internal as internal
from .test_gateway import issuer as issuer
from .test_gateway import services as services
from .test_gateway import stand_ins as stand_ins

PATH = "/api/orders/o1"


def issuer_of(data_dir: Path, authorization: str) -> str:
    """Who minted an internal token: the gateway, or the benchmark for its direct calls."""
    token = authorization.removeprefix("Bearer ")
    secret = load_service_secret(data_dir)
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE)
    return str(claims["iss"])


async def test_both_paths_are_measured_alternately_with_their_own_credentials(
    data_dir: Path,
    services: dict[str, StandIn],
    issuer: TokenIssuer,
    internal: ServiceCredentials,
) -> None:
    orders = services[routes.ORDERS]
    orders.answer("GET", PATH, Answer(body=ORDER))
    token = issuer.token("c1")
    async with gateway_for(data_dir, services) as gateway:
        overhead = await measure_gateway_overhead(
            str(gateway.base_url),
            orders.url,
            path=PATH,
            gateway_headers=bearer(token),
            service_headers=direct_headers(data_dir, token),
            requests=20,
            warmup=3,
        )
    assert overhead.requests == 20
    for path in (overhead.gateway, overhead.direct):
        assert 0 < path.p50 <= path.p95 <= path.p99
    assert overhead.added_p50_ms == overhead.gateway.p50 - overhead.direct.p50
    assert len(orders.seen) == 2 * (20 + 3), "every request reached the service"
    callers = {caller_seen(internal, seen) for seen in orders.seen}
    assert callers == {Principal("c1", CUSTOMER)}, "the direct calls name the same customer"
    issuers = {issuer_of(data_dir, seen.headers["authorization"]) for seen in orders.seen}
    assert issuers == {"gateway", "bench"}


async def test_a_refused_read_stops_the_run(
    data_dir: Path, services: dict[str, StandIn], issuer: TokenIssuer
) -> None:
    """A 404 is faster than a real read: measuring it would flatter the gateway."""
    orders = services[routes.ORDERS]
    token = issuer.token("c1")
    async with gateway_for(data_dir, services) as gateway:
        with pytest.raises(RuntimeError, match="answered 404"):
            await measure_gateway_overhead(
                str(gateway.base_url),
                orders.url,
                path=PATH,
                gateway_headers=bearer(token),
                service_headers=direct_headers(data_dir, token),
                requests=5,
                warmup=0,
            )
