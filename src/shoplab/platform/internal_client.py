"""Calling another service's internal HTTP endpoints, with this service's credentials.

One pooled client per service and a short timeout. Any failure to get an answer
(refused, timed out, a 5xx) becomes ``Unavailable``, which the edge answers
with a 503 problem: the caller learns that a collaborator is down, never where
it runs or why.
"""

from typing import Any

import httpx
import structlog

from shoplab.platform.errors import Unavailable
from shoplab.platform.service_auth import ServiceCredentials

log = structlog.get_logger(__name__)

TIMEOUT_SECONDS = 3.0


class InternalClient:
    def __init__(
        self,
        service: str,
        base_url: str,
        credentials: ServiceCredentials,
        *,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.service = service
        self._credentials = credentials
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON body of a 200 answer; raises ``Unavailable`` when there is none."""
        try:
            answer = await self._http.get(path, params=params, headers=self._credentials.headers())
        except httpx.HTTPError as error:
            log.warning("internal call failed", service=self.service, error=repr(error))
            raise Unavailable(f"The {self.service} service did not answer.") from error
        if answer.status_code != 200:
            log.warning("internal call refused", service=self.service, status=answer.status_code)
            raise Unavailable(f"The {self.service} service could not answer.")
        return answer.json()

    async def aclose(self) -> None:
        await self._http.aclose()
