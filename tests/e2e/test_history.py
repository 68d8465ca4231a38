"""The order history (CQRS) in the microservices modes: the list it serves, its rebuild, a crash.

``GET /api/orders`` is answered by the history service from its view; the view must
equal what a rebuild from the event logs produces, after a workload and after the
history service was killed in the middle of one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .api import Customer, System, expect_json
from .launcher import MODES, Launched, ModeSpec, run_cli, running, status_processes
from .workload import Outcome, Workload, run_workload

SUMMARY_FIELDS = ("order_id", "status", "reason", "total_cents", "currency", "created_at")
CATCH_UP_S = 60.0
SETTLE_POLL_S = 0.3
KILL_AFTER_S = 3.0
REBUILD_TIMEOUT_S = 180.0
HISTORY_MODES = [m for m in MODES if m.cli_mode == "microservices" and m.lifecycle]


async def dump(client: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = expect_json(
        await client.get("/api/admin/history/orders", headers=admin), 200
    )["items"]
    return items


async def settled_dump(client: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    """The view once it is caught up with every log, holds the notification of every final
    outcome, and no longer changes.

    Caught up is not enough: a cancellation's notification is sent after the order is
    ``CANCELLED``, so a view may be caught up with logs that do not hold it yet.
    """
    previous: list[dict[str, Any]] | None = None
    deadline = time.monotonic() + CATCH_UP_S
    while time.monotonic() < deadline:
        lag = expect_json(await client.get("/api/admin/history/status", headers=admin), 200)
        current = await dump(client, admin) if lag["caught_up"] else None
        if current is not None and not all(map(notified, current)):
            current = None
        if current is not None and current == previous:
            return current
        previous = current
        await asyncio.sleep(SETTLE_POLL_S)
    raise AssertionError(f"the history did not settle within {CATCH_UP_S} s: {lag}")


FINAL_NOTIFICATIONS = {
    "APPROVED": ["ORDER_APPROVED"],
    "REJECTED": ["ORDER_REJECTED"],
    "CANCELLED": ["ORDER_APPROVED", "ORDER_CANCELLED"],
}


def notified(entry: dict[str, Any]) -> bool:
    """The entry holds the notification of each outcome its order has had."""
    expected = FINAL_NOTIFICATIONS.get(entry["status"])
    return expected is None or sorted(entry["notifications"]) == expected


def rebuild(data_dir: Path) -> dict[str, Any]:
    done = run_cli(
        "history", "rebuild", "--json", "--data-dir", str(data_dir), timeout=REBUILD_TIMEOUT_S
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    assert answer["caught_up"], answer
    return answer


async def assert_lists_match_the_orders(client: httpx.AsyncClient, outcome: Outcome) -> None:
    """Each customer's list holds their orders, newest first, as ``GET /api/orders/{id}``."""
    for customer in outcome.customers:
        listed = expect_json(await client.get("/api/orders", headers=customer.headers), 200)
        items = listed["items"]
        mine = {p.order_id for p in outcome.plans if p.customer is customer}
        assert {item["order_id"] for item in items} == mine
        created = [item["created_at"] for item in items]
        assert created == sorted(created, reverse=True)
        for item in items:
            order = expect_json(
                await client.get(f"/api/orders/{item['order_id']}", headers=customer.headers),
                200,
            )
            assert {f: item[f] for f in (*SUMMARY_FIELDS, "updated_at")} == {
                f: order[f] for f in (*SUMMARY_FIELDS, "updated_at")
            }
            assert set(item) == {*SUMMARY_FIELDS, "updated_at"}


def assert_facts_kept(view: list[dict[str, Any]], outcome: Outcome) -> None:
    by_id = {entry["order_id"]: entry for entry in view}
    for plan in outcome.plans:
        entry = by_id[plan.order_id]
        status = entry["status"]
        assert status == plan.final["status"] or plan.cancelled, (entry, plan.final)
        expected_kind = {"APPROVED": "ORDER_APPROVED", "REJECTED": "ORDER_REJECTED"}
        if status in expected_kind:
            assert entry["notifications"] == [expected_kind[status]], entry
        if status == "APPROVED":
            assert entry["charged_cents"] == entry["total_cents"], entry
        if status == "CANCELLED":
            assert entry["refunded_cents"] == entry["charged_cents"] == entry["total_cents"]


async def test_the_view_equals_a_rebuild_after_a_workload(system: System) -> None:
    """In the monolith the list is read from the orders tables themselves: there is no
    read model to rebuild, and ``shoplab history rebuild`` says so instead."""
    if system.mode.cli_mode == "monolith":
        refused = run_cli("history", "rebuild", "--data-dir", str(system.data_dir))
        assert refused.returncode != 0, refused.stdout
        said = " ".join((refused.stdout + refused.stderr).split())  # the console wraps lines
        assert "has no history service" in said, said
        return
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        admin = await system.admin_headers(client)
        outcome = await run_workload(
            client, admin, Workload(orders=30), name=f"{system.mode.name}-history"
        )
        before = await settled_dump(client, admin)
        assert_facts_kept(before, outcome)
        await assert_lists_match_the_orders(client, outcome)
        rebuild(system.data_dir)
        after = await settled_dump(client, admin)
    assert after == before


async def test_the_list_needs_a_token_and_shows_only_the_callers_orders(
    system: System, client: httpx.AsyncClient, customer: Customer, other_customer: Customer
) -> None:
    assert (await client.get("/api/orders")).status_code == 401
    mine = expect_json(await client.get("/api/orders", headers=customer.headers), 200)
    assert mine == {"items": []}
    if system.mode.cli_mode == "microservices":
        forbidden = await client.get("/api/admin/history/orders", headers=customer.headers)
        assert forbidden.status_code == 403


@pytest.mark.parametrize("mode", HISTORY_MODES, ids=[m.name for m in HISTORY_MODES])
async def test_kill_9_of_the_history_service_then_it_catches_up_to_a_rebuild(
    mode: ModeSpec, tmp_path: Path
) -> None:
    with running(mode, tmp_path / "shoplab") as launched:
        await _kill_history_during_a_workload(launched)


async def _kill_history_during_a_workload(launched: Launched) -> None:
    system = System.of(launched)
    killed: list[int] = []

    async def kill_history() -> None:
        await asyncio.sleep(KILL_AFTER_S)
        [history] = [p for p in status_processes(launched.data_dir) if p["name"] == "history-1"]
        os.kill(history["pid"], signal.SIGKILL)
        killed.append(history["pid"])

    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0) as client:
        admin = await system.admin_headers(client)
        outcome = await run_workload(
            client,
            admin,
            Workload(orders=120, within=60.0),
            name="history-kill-9",
            during=kill_history,
        )
        [restarted] = [p for p in status_processes(launched.data_dir) if p["name"] == "history-1"]
        assert restarted["pid"] not in killed
        assert restarted["restarts"] >= 1
        caught_up = await settled_dump(client, admin)
        assert_facts_kept(caught_up, outcome)
        await assert_lists_match_the_orders(client, outcome)
        rebuild(launched.data_dir)
        rebuilt = await settled_dump(client, admin)
    assert rebuilt == caught_up
