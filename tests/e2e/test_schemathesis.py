"""Schemathesis against the running system: every default check, and not one failure.

``st run`` reads the served document and tests each operation against it, in its four
phases: the document's examples, coverage of each schema's edges, fuzzing with valid
and invalid data, and stateful sequences that follow the document's links (a placement
leads to its order, its cancellation and its details). It runs once as a fresh
customer and once as the administrator, with a fixed seed, under the repository's
``schemathesis.toml`` (which explains each setting). By hand: docs/testing.md.
"""

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from .api import System, bearer, expect_json, poll_until

ROOT = Path(__file__).resolve().parents[2]
ST = str(Path(sys.executable).parent / "st")
CONFIG = ROOT / "schemathesis.toml"
SEED = 20251125
MAX_EXAMPLES = 15
"""Enough for every phase to reach each operation; a run takes about ten seconds."""
REQUESTS_PER_SECOND = 90
"""Below the suite's quota for writes (100 a second per customer, ``launcher.SUITE_RATE_LIMITS``),
which every request but a read counts against: past it the answers are 429s, documented but
reaching no route, so Schemathesis would test less."""
RUN_TIMEOUT_S = 180.0
NOT_AS_ADMIN = "^/api/auth/"
"""Left out of the administrator's run, which reads every customer's email in the
notifications: signing in with them and wrong passwords would lock those accounts (and the
administrator's own) out of signing in, for the tests that follow. The customer's run
covers these operations."""


def schemathesis(
    base_url: str, token: str, workdir: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    command = [
        ST,
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--rate-limit",
        f"{REQUESTS_PER_SECOND}/s",
        "--generation-database",
        "none",
        "--no-color",
        *extra,
    ]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )


async def settle_orders(client: httpx.AsyncClient, token: str) -> None:
    """Wait until the orders the run placed are final, so none settles during a later test."""

    async def listed() -> list[dict[str, Any]]:
        body = expect_json(await client.get("/api/orders", headers=bearer(token)), 200)
        items: list[dict[str, Any]] = body["items"]
        return items

    await poll_until(
        listed,
        lambda orders: all(order["status"] != "PENDING" for order in orders),
        what="the orders Schemathesis placed to be final",
    )


@pytest.mark.lifecycle_only
@pytest.mark.parametrize("role", ["customer", "admin"])
async def test_schemathesis_finds_no_failure(
    system: System, client: httpx.AsyncClient, role: str, tmp_path: Path
) -> None:
    extra: tuple[str, ...] = ()
    if role == "admin":
        token, extra = await system.admin_token(client), ("--exclude-path-regex", NOT_AS_ADMIN)
    else:
        token = (await system.register_customer(client)).token

    run = await asyncio.to_thread(schemathesis, system.base_url, token, tmp_path, *extra)
    await settle_orders(client, token)

    assert run.returncode == 0, f"st run exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
