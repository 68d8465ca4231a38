"""What the gateway's own HTTP client must and must not do, over real HTTP.

The stand-in services and the real gateway are ``test_gateway``'s. These tests pin the
client's side of forwarding: the trace context goes on (the whole trace across the
gateway is ``tests/e2e/test_observability``'s), nothing the client library would add or
keep (a content type, a cookie) does, and a read that meets a dead instance is answered
by another one.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from shoplab.gateway import routes
from shoplab.gateway.app import Gateway
from shoplab.gateway.upstreams import Upstreams
from shoplab.platform.discovery import Instance
from shoplab.platform.discovery.static import StaticResolver
from shoplab.platform.settings import PlatformSettings

from ..serving import served
from .test_gateway import (
    API_AUDIENCE,
    ISSUER,
    Answer,
    StandIn,
    dead_url,
    gateway_for,
    resolver_for,
)
from .test_gateway import data_dir as data_dir
from .test_gateway import gateway as gateway
from .test_gateway import issuer as issuer
from .test_gateway import services as services
from .test_gateway import stand_ins as stand_ins

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


async def test_the_trace_context_goes_on_to_the_service(services: dict[str, StandIn]) -> None:
    """A request sent while serving a traced one is in its trace: the service's parent is
    the client span when this process records spans, else the span being served."""
    services[routes.CATALOG].answer("GET", "/api/products", Answer(body={"items": []}))
    upstreams = Upstreams({name: service.url for name, service in services.items()})
    served_span = NonRecordingSpan(
        SpanContext(
            int(TRACE_ID, 16), int(CALLER_SPAN, 16), is_remote=True, trace_flags=TraceFlags(1)
        )
    )
    try:
        with trace.use_span(served_span):
            answer = await upstreams.request(routes.CATALOG, "GET", "/api/products", headers={})
    finally:
        await upstreams.close()
    assert answer.status_code == 200
    [seen] = services[routes.CATALOG].seen
    version, trace_id, parent, flags = seen.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert len(parent) == 16


async def test_a_cookie_a_service_sets_is_never_sent_on(
    data_dir: Path, services: dict[str, StandIn]
) -> None:
    """One pool serves every customer: a cookie kept from one answer would reach the next
    customer's request. (A client keeps no cookie of a bare IP address: the service is
    named, as in Kubernetes.)"""
    catalog = services[routes.CATALOG]
    catalog.answer(
        "GET", "/api/products", Answer(body={"items": []}, headers={"set-cookie": "session=ada"})
    )
    named = catalog.url.replace("127.0.0.1", "localhost")
    async with gateway_for(data_dir, services, catalog=named) as gateway:
        for _ in range(2):
            assert (await gateway.get("/api/products")).status_code == 200
    assert [seen.headers.get("cookie") for seen in catalog.seen] == [None, None]


async def test_a_body_without_a_type_is_forwarded_without_one(
    gateway: httpx.AsyncClient, services: dict[str, StandIn]
) -> None:
    orders = services[routes.ORDERS]
    orders.answer("POST", "/api/orders", Answer(415, {"detail": "no type"}))
    answer = await gateway.post("/api/orders", content=b"{}", headers={"content-type": ""})
    assert answer.status_code == 415
    [seen] = orders.seen
    assert seen.headers["content-type"] == ""
    assert "user-agent" not in seen.headers
    answer = await gateway.request("POST", "/api/orders", content=b"x")
    assert answer.status_code == 415
    assert "content-type" not in orders.seen[-1].headers


@asynccontextmanager
async def gateway_with_a_dead_twin(
    data_dir: Path, services: dict[str, StandIn]
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway, with two catalog instances registered: one dead, then the stand-in."""
    urls = {name: service.url for name, service in services.items()}
    dead = httpx.URL(dead_url())
    assert dead.port is not None
    twin = Instance(service=routes.CATALOG, id="0-dead", host=dead.host, ports={"http": dead.port})
    live = resolver_for(services, urls)
    instances = [twin, *[instance for name in urls for instance in await live.instances(name)]]
    settings = PlatformSettings(
        data_dir=data_dir, service_urls=urls, jwt_issuer=ISSUER, jwt_audience=API_AUDIENCE
    )
    gateway = Gateway(settings, resolver=StaticResolver(instances))
    async with (
        served(gateway.app(), lifespan="on") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        yield client


async def test_a_read_that_meets_a_dead_instance_is_answered_by_another(
    data_dir: Path, services: dict[str, StandIn]
) -> None:
    """Whichever instance the round robin offers first, every read is answered: the refused
    connection is retried on the live twin, and the dead one is skipped from then on."""
    catalog = services[routes.CATALOG]
    catalog.answer("GET", "/api/products", Answer(body={"items": []}))
    catalog.answer("POST", "/api/products", Answer(201, {}))
    async with gateway_with_a_dead_twin(data_dir, services) as gateway:
        statuses = [(await gateway.get("/api/products")).status_code for _ in range(4)]
        writes = [(await gateway.post("/api/products")).status_code for _ in range(2)]
    assert statuses == [200] * 4
    assert writes == [201, 201], "the dead instance is skipped once it refused a connection"
    assert len(catalog.seen) == 6


async def test_a_write_that_meets_a_dead_instance_is_not_retried(
    data_dir: Path, services: dict[str, StandIn]
) -> None:
    """A POST may have taken effect elsewhere: the refusal is the client's 503."""
    catalog = services[routes.CATALOG]
    catalog.answer("POST", "/api/products", Answer(201, {}))
    async with gateway_with_a_dead_twin(data_dir, services) as gateway:
        answers = [(await gateway.post("/api/products")).status_code for _ in range(2)]
    assert sorted(answers) == [201, 503]
    assert len(catalog.seen) == 1
