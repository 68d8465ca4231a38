"""The gateway's public OpenAPI document, composed from the services' own.

Each service generates the OpenAPI of its routes from its code, completed and put in
canonical form by the chassis (``platform.http.openapi``). The gateway takes each
operation from the service its routing table sends it to (``GET /api/orders`` from the
history, not from orders), adds the one it answers itself (the order details), and
puts the union in the same canonical form: the document is the monolith's, byte for
byte. It is composed on the first request once every service answers, then kept.
"""

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI

from shoplab.contracts.views import OrderDetails
from shoplab.gateway import routes
from shoplab.gateway.upstreams import UpstreamFailure, Upstreams
from shoplab.platform.auth import BearerCredentials
from shoplab.platform.http.openapi import info, install_public_openapi, problems
from shoplab.platform.http.openapi_form import canonical
from shoplab.platform.internal_auth import ServiceCredentials

Document = dict[str, Any]

TITLE = "shoplab"
OPERATOR_PATHS = ("/api/admin/history/",)
"""The history's operator routes (``shoplab history``): they exist in the microservices
mode only, so the public document, the same in every mode, leaves them out. The history
service's own document describes them."""
PROBE_PATHS = ("/health/",)
"""Every process answers the probes, the gateway too, from the same chassis routes."""


def merge(documents: Mapping[str, Document]) -> Document:
    """One document from the services' own (``{service: document}``, the gateway's own
    operations under ``routes.COMPOSED``): each operation from the service that serves it."""
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    for service, document in documents.items():
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if _served_by(service, path, method):
                    _put(paths.setdefault(path, {}), method, operation, f"{method} {path}")
        for section, entries in document.get("components", {}).items():
            for name, value in entries.items():
                _put(components.setdefault(section, {}), name, value, f"{section} {name}")
    version = next(iter(documents.values()))["openapi"] if documents else "3.1.0"
    return canonical(
        {"openapi": version, "info": info(TITLE), "paths": paths, "components": components}
    )


def _served_by(service: str, path: str, method: str) -> bool:
    if path.startswith(OPERATOR_PATHS):
        return False
    if path.startswith(PROBE_PATHS):
        return True
    match = routes.route(path, method.upper())
    return match is not None and match.target == service


def _put(into: dict[str, Any], key: str, value: Any, what: str) -> None:
    """Two services may describe the same thing (a shared schema) only identically."""
    if into.setdefault(key, value) != value:
        raise ValueError(f"the services describe {what} in two different ways")


def composed_router() -> APIRouter:
    """What the gateway answers itself, declared as the monolith declares it."""
    router = APIRouter()

    @router.get(
        "/api/orders/{order_id}/details",
        tags=["orders"],
        responses=problems({404: "No order of the caller's has this id."}),
    )
    async def order_details(order_id: str, _caller: BearerCredentials) -> OrderDetails:
        """The order with its payment and notifications, composed from their owners."""
        raise NotImplementedError("documentation only: Gateway.handle answers this path")

    return router


def composed_document() -> Document:
    """The document of the gateway's own operations; their shapes are the services' own
    (``contracts.views``), so the merge finds them described the same way."""
    app = FastAPI(title=TITLE, openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(composed_router())
    install_public_openapi(app)
    return app.openapi()


async def collect(upstreams: Upstreams, credentials: ServiceCredentials) -> dict[str, Document]:
    """Every service's own OpenAPI document; ``UpstreamFailure`` when one does not answer."""

    async def fetch(service: str) -> Document:
        answer = await upstreams.request(
            service, "GET", "/api/openapi.json", headers=credentials.headers()
        )
        if answer.status_code != 200:
            raise UpstreamFailure(service)
        document: Document = answer.json()
        return document

    services = sorted(upstreams.services)
    documents = await asyncio.gather(*(fetch(service) for service in services))
    return dict(zip(services, documents, strict=True))


class PublicContract:
    """The merged document, composed once and kept."""

    def __init__(self, upstreams: Upstreams, credentials: ServiceCredentials) -> None:
        self._upstreams = upstreams
        self._credentials = credentials
        self._document: Document | None = None

    async def document(self) -> Document:
        if self._document is None:
            documents = await collect(self._upstreams, self._credentials)
            self._document = merge({**documents, routes.COMPOSED: composed_document()})
        return self._document
