"""Shared HTTP helpers: the system handle, customers, problem checks and polling."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .launcher import ADMIN_EMAIL, Launched, ModeSpec

T = TypeVar("T")

SETTLE_TIMEOUT_S = 20.0
STATUSES = {"PENDING", "APPROVED", "REJECTED", "CANCELLED"}
FINAL_STATUSES = {"APPROVED", "REJECTED", "CANCELLED"}
REASONS = {
    "OUT_OF_STOCK",
    "PAYMENT_DECLINED",
    "INSUFFICIENT_FUNDS",
    "PAYMENT_UNAVAILABLE",
    "CANCELLED_BY_CUSTOMER",
}
CHARGING_CARDS = ("pm_card_visa", "pm_card_mastercard")
DECLINED_CARD = "pm_card_chargeDeclined"
INSUFFICIENT_CARD = "pm_card_chargeDeclinedInsufficientFunds"
ALL_CARDS = (*CHARGING_CARDS, DECLINED_CARD, INSUFFICIENT_CARD)

ORDER_FIELDS = {
    "order_id",
    "customer_id",
    "status",
    "reason",
    "items",
    "total_cents",
    "currency",
    "created_at",
    "updated_at",
}
ORDER_ITEM_FIELDS = {"sku", "quantity", "unit_price_cents"}
INVENTORY_FIELDS = {"sku", "on_hand", "reserved", "available"}
PAYMENT_FIELDS = {"order_id", "charged_cents", "refunded_cents", "status"}
NOTIFICATION_FIELDS = {"kind", "order_id", "recipient", "sent_at"}


@dataclass
class Customer:
    """A registered customer with a valid access token."""

    customer_id: str
    email: str
    password: str
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class System:
    """A running system under test, shared by every test of one mode."""

    mode: ModeSpec
    base_url: str
    port: int
    pid: int
    data_dir: Path
    admin_email: str
    admin_password: str
    _admin_token: str | None = field(default=None, repr=False)
    _admin_token_expiry: float = field(default=0.0, repr=False)

    @classmethod
    def of(cls, launched: Launched) -> System:
        return cls(
            mode=launched.mode,
            base_url=launched.base_url,
            port=launched.port,
            pid=launched.process.pid,
            data_dir=launched.data_dir,
            admin_email=ADMIN_EMAIL,
            admin_password=launched.admin_password,
        )

    async def register_customer(self, client: httpx.AsyncClient) -> Customer:
        """Register a customer with a unique email and log it in."""
        return await register_customer(client)

    async def admin_token(self, client: httpx.AsyncClient) -> str:
        """An admin access token, reused until shortly before it expires."""
        if self._admin_token is None or time.monotonic() > self._admin_token_expiry:
            response = await client.post(
                "/api/auth/token",
                json={"email": self.admin_email, "password": self.admin_password},
            )
            body = expect_json(response, 200)
            self._admin_token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 60))
            self._admin_token_expiry = time.monotonic() + max(lifetime - 30.0, 5.0)
        return self._admin_token

    async def admin_headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        return bearer(await self.admin_token(client))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_email(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex}@example.com"


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": unique_email(),
        "password": "correct-horse-battery",
        "name": "E2E Customer",
    }
    body.update(overrides)
    return body


async def register_customer(client: httpx.AsyncClient) -> Customer:
    body = registration()
    created = expect_json(await client.post("/api/auth/register", json=body), 201)
    token = await login(client, body["email"], body["password"])
    return Customer(
        customer_id=str(created["customer_id"]),
        email=body["email"],
        password=body["password"],
        name=body["name"],
        token=token,
    )


async def register_customers(client: httpx.AsyncClient, count: int) -> list[Customer]:
    return list(await asyncio.gather(*(register_customer(client) for _ in range(count))))


async def login(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/api/auth/token", json={"email": email, "password": password})
    return str(expect_json(response, 200)["access_token"])


def _describe(response: httpx.Response) -> str:
    return (
        f"{response.request.method} {response.request.url.path} -> {response.status_code} "
        f"{response.headers.get('content-type')!r}: {response.text[:800]}"
    )


def assert_no_traceback(response: httpx.Response) -> None:
    assert "Traceback (most recent call last)" not in response.text, _describe(response)


def expect_json(response: httpx.Response, status: int) -> Any:
    """Assert a JSON success answer with ``status`` and return its body."""
    assert response.status_code == status, _describe(response)
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "application/json", _describe(response)
    return response.json()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with ``status``; return the problem document."""
    assert response.status_code == status, _describe(response)
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "application/problem+json", _describe(response)
    assert_no_traceback(response)
    body = response.json()
    assert isinstance(body, dict), _describe(response)
    missing = {"type", "title", "status", "detail"} - set(body)
    assert not missing, f"problem lacks {sorted(missing)}: {_describe(response)}"
    assert body["status"] == status, _describe(response)
    assert isinstance(body["type"], str), _describe(response)
    assert body["type"], _describe(response)
    assert isinstance(body["title"], str), _describe(response)
    assert body["title"], _describe(response)
    assert isinstance(body["detail"], str), _describe(response)
    return body


def assert_timestamp(value: Any) -> datetime:
    assert isinstance(value, str), f"expected an ISO 8601 timestamp, got {value!r}"
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise AssertionError(f"not an ISO 8601 timestamp: {value!r}") from exc


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    what: str,
    within: float = SETTLE_TIMEOUT_S,
) -> T:
    """Fetch repeatedly until ``done`` holds; fail with the last value after ``within`` s."""
    deadline = time.monotonic() + within
    interval = 0.02
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}: {value!r}")
        await asyncio.sleep(interval)
        interval = min(interval * 2, 0.5)
