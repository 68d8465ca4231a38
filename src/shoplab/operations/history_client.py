"""``shoplab history``: asking the running history service for its lag, or a rebuild.

The CLI calls the service's own port (from the run's state file) with an
internal token it signs with the run's service secret, as the operator with the
administrator's role: no customer account is needed, and nobody without the
data folder's secret can do it.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from shoplab.platform.auth import ADMIN, Principal
from shoplab.platform.faults import OPERATOR
from shoplab.platform.internal_auth import ServiceCredentials, load_service_secret
from shoplab.runtime.state import RunState

POLL_SECONDS = 0.5


class HistoryUnavailable(Exception):
    """The run has no history service, or it did not answer as expected."""


class HistoryClient:
    def __init__(self, run: RunState, data_dir: Path) -> None:
        found = [p for p in run.processes if p.name == "history-1"]
        if not found:
            raise HistoryUnavailable(
                f"the run in {data_dir} ({run.mode}) has no history service: "
                "its orders service answers the order list from its own tables"
            )
        self._url = f"http://127.0.0.1:{found[0].ports['http']}"
        self._credentials = ServiceCredentials(load_service_secret(data_dir), OPERATOR)

    async def status(self) -> dict[str, Any]:
        return await self._call("GET", "/api/admin/history/status")

    async def rebuild(self, wait: float) -> dict[str, Any]:
        """Empty the view, replay every log, and wait until the view has caught up."""
        await self._call("POST", "/api/admin/history/rebuild")
        deadline = time.monotonic() + wait
        while not (answer := await self.status())["caught_up"]:
            if time.monotonic() > deadline:
                raise HistoryUnavailable(f"the view had not caught up after {wait:.0f} s")
            await asyncio.sleep(POLL_SECONDS)
        return answer

    async def _call(self, method: str, path: str) -> dict[str, Any]:
        headers = self._credentials.headers(Principal(customer_id=OPERATOR, role=ADMIN))
        try:
            async with httpx.AsyncClient(base_url=self._url, timeout=30.0) as http:
                answer = await http.request(method, path, headers=headers)
        except httpx.HTTPError as error:
            raise HistoryUnavailable(f"the history service did not answer: {error!r}") from error
        if answer.status_code >= 300:
            raise HistoryUnavailable(f"the history service answered {answer.status_code}")
        body: dict[str, Any] = answer.json()
        return body
