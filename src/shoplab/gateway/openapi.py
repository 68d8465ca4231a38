"""The public OpenAPI document of the gateway, composed from the services' own.

Each service generates the OpenAPI of its routes from its code; the gateway
merges their public paths (``/api/...``, ``/.well-known/...``) and schemas into
one document, so ``/api/docs`` shows the same contract as the monolith's. It is
composed on the first request once every service answers, then kept.
"""

import asyncio
from typing import Any

from shoplab.gateway.upstreams import UpstreamFailure, Upstreams
from shoplab.platform.service_auth import ServiceCredentials

PUBLIC_PREFIXES = ("/api/", "/.well-known/")


def merge(title: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """One document with every public path and every schema of ``documents``."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for document in documents:
        for path, operations in document.get("paths", {}).items():
            if path.startswith(PUBLIC_PREFIXES):
                paths.setdefault(path, {}).update(operations)
        schemas.update(document.get("components", {}).get("schemas", {}))
    version = documents[0]["openapi"] if documents else "3.1.0"
    merged: dict[str, Any] = {
        "openapi": version,
        "info": {"title": title, "version": "1.0.0"},
        "paths": dict(sorted(paths.items())),
    }
    if schemas:
        merged["components"] = {"schemas": dict(sorted(schemas.items()))}
    return merged


async def collect(upstreams: Upstreams, credentials: ServiceCredentials) -> list[dict[str, Any]]:
    """Every service's own OpenAPI document; ``UpstreamFailure`` when one does not answer."""

    async def fetch(service: str) -> dict[str, Any]:
        answer = await upstreams.request(
            service, "GET", "/api/openapi.json", headers=credentials.headers()
        )
        if answer.status_code != 200:
            raise UpstreamFailure(service)
        document: dict[str, Any] = answer.json()
        return document

    return list(await asyncio.gather(*(fetch(s) for s in sorted(upstreams.services))))


class PublicContract:
    """The merged document, composed once and kept."""

    def __init__(self, upstreams: Upstreams, credentials: ServiceCredentials) -> None:
        self._upstreams = upstreams
        self._credentials = credentials
        self._document: dict[str, Any] | None = None

    async def document(self) -> dict[str, Any]:
        if self._document is None:
            documents = await collect(self._upstreams, self._credentials)
            self._document = merge("shoplab", documents)
        return self._document
