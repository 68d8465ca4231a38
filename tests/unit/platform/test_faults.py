"""Fault injection: only signed orders apply, and faults apply to everything but health."""

import json

import httpx
import pytest
from fastapi import FastAPI

from shoplab.platform.auth import Principal
from shoplab.platform.faults import (
    OPERATOR,
    FaultInjector,
    FaultListener,
    FaultMiddleware,
    FaultOrder,
    InjectedFault,
)
from shoplab.platform.internal_auth import ServiceCredentials

SECRET = b"s" * 32


class Clock:
    """Records the sleeps asked for instead of sleeping."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def operator_order(**faults: float) -> FaultOrder:
    token = ServiceCredentials(SECRET, OPERATOR).mint()
    return FaultOrder(token=token, **faults)


def injector(clock: Clock, fraction: float = 0.5) -> FaultInjector:
    return FaultInjector(
        ServiceCredentials(SECRET, "payments"), random_fraction=lambda: fraction, sleep=clock.sleep
    )


async def test_a_signed_order_slows_every_call_by_its_latency() -> None:
    clock = Clock()
    faults = injector(clock)
    assert faults.obey(operator_order(latency_ms=5000))
    await faults.apply()
    assert clock.slept == [5.0]


async def test_the_error_rate_fails_calls_below_it() -> None:
    clock = Clock()
    failing, passing = injector(clock, fraction=0.29), injector(clock, fraction=0.31)
    for faults in (failing, passing):
        assert faults.obey(operator_order(error_rate=0.3))
    with pytest.raises(InjectedFault):
        await failing.apply()
    await passing.apply()


@pytest.mark.parametrize(
    "token",
    [
        ServiceCredentials(b"x" * 32, OPERATOR).mint(),  # another secret
        ServiceCredentials(SECRET, "orders").mint(),  # a service, not the operator
        ServiceCredentials(SECRET, OPERATOR).mint(Principal("c1", "customer")),
        "not-a-token",
    ],
    ids=["forged", "service", "customer", "garbage"],
)
async def test_an_order_without_the_operators_signature_changes_nothing(token: str) -> None:
    clock = Clock()
    faults = injector(clock)
    assert not faults.obey(FaultOrder(token=token, latency_ms=5000))
    await faults.apply()
    assert clock.slept == []
    assert not faults.faults.active


async def test_clear_removes_the_faults() -> None:
    faults = injector(Clock())
    faults.obey(operator_order(latency_ms=100, error_rate=1.0))
    assert faults.faults.active
    faults.obey(operator_order())
    assert not faults.faults.active


async def test_the_listener_answers_with_its_instance_and_state() -> None:
    listener = FaultListener(injector(Clock()), "payments-2")
    answer = json.loads(
        await listener.handle(operator_order(latency_ms=250).model_dump_json().encode())
    )
    assert answer == {
        "instance": "payments-2",
        "obeyed": True,
        "latency_ms": 250,
        "error_rate": 0.0,
    }
    refused = json.loads(await listener.handle(b"{not json"))
    assert refused["obeyed"] is False


async def test_http_requests_fail_but_health_probes_never_do() -> None:
    app = FastAPI()

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/api/x")
    async def x() -> dict[str, str]:
        return {"x": "y"}

    faults = injector(Clock(), fraction=0.0)
    faults.obey(operator_order(error_rate=1.0))
    wrapped = FaultMiddleware(app, faults)
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/health/ready")).status_code == 200
        failed = await client.get("/api/x")
    assert failed.status_code == 503
    assert failed.headers["content-type"] == "application/problem+json"
