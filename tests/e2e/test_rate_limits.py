"""Rate limits at the front door, through the public API of the monolith and the gateway.

The suite's systems run with a placement quota of 100 a second per customer
(``SUITE_RATE_LIMITS``), and the default failed sign-in quota (5 a minute per account). The
burst test starts systems of its own with 10 a second and 50 a minute: a burst of 200 meets
the first on a fast machine and the second on a slow one, so some are refused whatever the
load, and no other test's customers (the administrator among them) spend its quota.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .api import Customer, System, assert_problem, expect_json, registration
from .launcher import mode_params, running
from .shop import list_products, order_body, post_order, set_stock

pytestmark = pytest.mark.lifecycle_only

BURST = 200
BURST_QUOTA = {"SHOPLAB_RATE_LIMIT_PLACEMENT": "10/second;50/minute"}
PER_SECOND, PER_MINUTE = (
    int(quota.split("/")[0]) for quota in BURST_QUOTA["SHOPLAB_RATE_LIMIT_PLACEMENT"].split(";")
)
FAILED_SIGN_INS_ALLOWED = 5
RATE_LIMIT = re.compile(r'^"placement-(1|60)s";r=(?P<r>\d+);t=(?P<t>\d+)$')


@pytest.fixture(params=mode_params(lifecycle=True))
def quota_system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[System]:
    """A system of its own with a tight placement quota."""
    with running(request.param, tmp_path / "shoplab", env=BURST_QUOTA) as launched:
        yield System.of(launched)


async def test_a_burst_by_one_customer_is_refused_while_another_customer_places_orders(
    quota_system: System,
) -> None:
    system = quota_system
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30, limits=limits) as client:
        admin = await system.admin_headers(client)
        customer = await system.register_customer(client)
        other_customer = await system.register_customer(client)
        sku = (await list_products(client))[-1]["sku"]
        await set_stock(client, admin, sku, 1_000_000)
        body = order_body([(sku, 1)], "pm_card_visa")

        async def place(who: Customer, key: str | None = None) -> httpx.Response:
            return await post_order(client, who, body, idempotency_key=key or str(uuid.uuid4()))

        # The burst repeats one placement (same key, same body): each request counts against
        # the quota like any other, but answering one is a lookup, not a new order, so even a
        # loaded machine admits the 200 faster than the quota allows.
        key = str(uuid.uuid4())
        assert (await place(customer, key)).status_code == 202
        burst = [place(customer, key) for _ in range(BURST)]
        others = [place(other_customer) for _ in range(5)]
        started = asyncio.get_running_loop().time()
        answers = await asyncio.gather(*burst, *others)
        took = asyncio.get_running_loop().time() - started

    mine, theirs = answers[:BURST], answers[BURST:]
    refused = [a for a in mine if a.status_code == 429]
    accepted = [a for a in mine if a.status_code == 202]
    assert len(refused) + len(accepted) == BURST, {a.status_code for a in mine}
    assert refused, f"no 429 among {BURST} placements in {took:.2f} s"
    assert len(accepted) <= min(PER_SECOND + PER_SECOND * took, PER_MINUTE)  # windows move on
    for answer in refused:
        assert_problem(answer, 429)
        assert int(answer.headers["retry-after"]) >= 1
        found = RATE_LIMIT.match(answer.headers["ratelimit"])
        assert found is not None, answer.headers["ratelimit"]
        assert found["r"] == "0"
        assert f'"placement-1s";q={PER_SECOND};w=1' in answer.headers["ratelimit-policy"]
        assert f'"placement-60s";q={PER_MINUTE};w=60' in answer.headers["ratelimit-policy"]
    for answer in accepted:
        assert RATE_LIMIT.match(answer.headers["ratelimit"]) is not None
    assert len({answer.json()["order_id"] for answer in accepted}) == 1  # replays, one order
    assert [a.status_code for a in theirs] == [202] * len(theirs)


async def test_failed_sign_ins_suspend_an_account_and_a_right_password_waits_too(
    client: httpx.AsyncClient,
) -> None:
    body = registration()
    expect_json(await client.post("/api/auth/register", json=body), 201)
    wrong = {"email": body["email"], "password": "not-the-password"}
    failures = [await client.post("/api/auth/token", json=wrong) for _ in range(5)]
    assert [a.status_code for a in failures] == [401] * FAILED_SIGN_INS_ALLOWED
    suspended = await client.post("/api/auth/token", json=wrong)
    assert_problem(suspended, 429)
    assert 1 <= int(suspended.headers["retry-after"]) <= 60
    right = {"email": body["email"], "password": body["password"]}
    assert_problem(await client.post("/api/auth/token", json=right), 429)
    other = registration()
    expect_json(await client.post("/api/auth/register", json=other), 201)
    signed_in = await client.post(
        "/api/auth/token", json={"email": other["email"], "password": other["password"]}
    )
    expect_json(signed_in, 200)


async def test_an_unknown_email_and_a_wrong_password_get_the_same_answers(
    client: httpx.AsyncClient,
) -> None:
    known = registration()
    expect_json(await client.post("/api/auth/register", json=known), 201)
    unknown = registration()  # never registered

    async def attempts(email: str) -> list[httpx.Response]:
        wrong = {"email": email, "password": "not-the-password"}
        return [await client.post("/api/auth/token", json=wrong) for _ in range(7)]

    for a, b in zip(await attempts(known["email"]), await attempts(unknown["email"]), strict=True):
        assert a.status_code == b.status_code
        assert a.json() == b.json()
        assert set(a.headers) - {"ratelimit"} == set(b.headers) - {"ratelimit"}
        assert ("retry-after" in a.headers) == ("retry-after" in b.headers)
