"""The public OpenAPI document of the gateway, composed from the services' own.

Each service generates the OpenAPI of its routes from its code; the gateway
merges their public paths (``/api/...``, ``/.well-known/...``) and schemas into
one document, so ``/api/docs`` shows the same contract as the monolith's. It is
fetched once every service answers, in the background, and kept.
"""

import asyncio
from typing import Any

import structlog

from shoplab.gateway.upstreams import Upstreams
from shoplab.platform.service_auth import ServiceCredentials

log = structlog.get_logger(__name__)

PUBLIC_PREFIXES = ("/api/", "/.well-known/")
RETRY_SECONDS = 1.0


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


async def compose(upstreams: Upstreams, credentials: ServiceCredentials) -> list[dict[str, Any]]:
    """Every service's OpenAPI document; waits (retrying) until each has answered."""
    documents: dict[str, dict[str, Any]] = {}
    while len(documents) < len(upstreams.services):
        for service in sorted(upstreams.services - documents.keys()):
            try:
                answer = await upstreams.request(
                    service, "GET", "/api/openapi.json", headers=credentials.headers()
                )
            except Exception as error:
                log.debug("openapi not available yet", upstream=service, error=repr(error))
                continue
            if answer.status_code == 200:
                documents[service] = answer.json()
        if len(documents) < len(upstreams.services):
            await asyncio.sleep(RETRY_SECONDS)
    return [documents[service] for service in sorted(documents)]
