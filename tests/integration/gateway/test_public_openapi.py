"""The public OpenAPI document: the same in both modes, and faithful to the contract.

The documents are generated in-process, as the running processes generate them: the
monolith's app, and each microservice's app merged by the gateway's ``merge``. Nothing
is started. ``API_MD`` is the repository's copy of the shared contract's table (API.md
lives outside the repository): every method, path and status code it names must be
documented, and the document must have no path the contract lacks.
"""

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse

from shoplab.gateway import routes
from shoplab.gateway.openapi import composed_document, merge
from shoplab.monolith.app import Monolith
from shoplab.payments.adapters.card_processor import TEST_CARDS
from shoplab.platform.host import ServiceHost
from shoplab.platform.internal_auth import ensure_service_secret
from shoplab.platform.settings import PlatformSettings
from shoplab.services import SERVICES

Document = dict[str, Any]

API_MD: dict[tuple[str, str], set[int]] = {
    ("POST", "/api/auth/register"): {201, 409, 422},
    ("POST", "/api/auth/token"): {200, 401},
    ("GET", "/.well-known/jwks.json"): {200},
    ("GET", "/api/products"): {200},
    ("GET", "/api/products/{sku}"): {200, 404},
    ("POST", "/api/orders"): {202, 401, 409, 422},
    ("GET", "/api/orders/{order_id}"): {200, 401, 404},
    ("GET", "/api/orders"): {200, 401},
    ("POST", "/api/orders/{order_id}/cancel"): {202, 401, 409},
    ("GET", "/api/orders/{order_id}/details"): {200, 401},
    ("PUT", "/api/admin/inventory/{sku}"): {200, 401, 403},
    ("GET", "/api/admin/inventory/{sku}"): {200, 401, 403},
    ("GET", "/api/admin/payments"): {200, 401, 403, 404},
    ("GET", "/api/admin/notifications"): {200, 401, 403},
    ("GET", "/api/admin/sagas/{order_id}"): {200, 401, 403, 404},
    ("GET", "/health/live"): {200},
    ("GET", "/health/ready"): {200},
}
"""API.md's table: (method, path) → the status codes it names. Every route needing a token
answers 401 without one; every administration route answers 403 to a customer's."""
QUERY_PARAMETERS = {
    ("GET", "/api/admin/payments"): "order_id",
    ("GET", "/api/admin/notifications"): "order_id",
}
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> PlatformSettings:
    data_dir = tmp_path_factory.mktemp("openapi")
    ensure_service_secret(data_dir)
    # The history reads a broker's logs; building its app connects to nothing.
    return PlatformSettings(data_dir=data_dir, broker_url="nats://127.0.0.1:1")


@pytest.fixture(scope="module")
def monolith_document(settings: PlatformSettings) -> Document:
    return Monolith(settings).app().openapi()


def service_document(name: str, settings: PlatformSettings) -> Document:
    host = ServiceHost(name, settings, http_port=0)
    return host.app(SERVICES[name](host)).openapi()


@pytest.fixture(scope="module")
def gateway_document(settings: PlatformSettings) -> Document:
    documents = {name: service_document(name, settings) for name in SERVICES}
    return merge({**documents, routes.COMPOSED: composed_document()})


def served(document: Document) -> bytes:
    """The bytes ``/api/openapi.json`` answers, in either mode."""
    return bytes(JSONResponse(document).body)


def operations(document: Document) -> dict[tuple[str, str], Document]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_the_gateway_serves_the_monolith_document_byte_for_byte(
    monolith_document: Document, gateway_document: Document
) -> None:
    assert served(gateway_document) == served(monolith_document), _first_difference(
        gateway_document, monolith_document
    )


def test_the_choreographed_orders_service_documents_the_same_operations(
    settings: PlatformSettings, gateway_document: Document
) -> None:
    choreography = settings.model_copy(update={"saga": "choreography"})
    documents = {name: service_document(name, settings) for name in SERVICES}
    documents["orders"] = service_document("orders", choreography)

    assert merge({**documents, routes.COMPOSED: composed_document()}) == gateway_document


def test_every_method_path_and_code_of_the_contract_is_documented(
    monolith_document: Document,
) -> None:
    documented = operations(monolith_document)
    missing = {
        (method, path, code)
        for (method, path), codes in API_MD.items()
        for code in codes
        if str(code) not in documented.get((method, path), {}).get("responses", {})
    }
    assert not missing, sorted(missing)
    assert set(documented) == set(API_MD), "paths beyond API.md or lacking"
    for (method, path), name in QUERY_PARAMETERS.items():
        [parameter] = documented[(method, path)]["parameters"]
        assert (parameter["in"], parameter["name"], parameter["required"]) == ("query", name, True)


def test_every_error_is_a_problem_and_the_chassis_answers_are_everywhere(
    monolith_document: Document,
) -> None:
    for (method, path), operation in operations(monolith_document).items():
        answers = operation["responses"]
        errors = {code: answer for code, answer in answers.items() if int(code) >= 400}
        for code, answer in errors.items():
            assert list(answer["content"]) == [PROBLEM_JSON], (method, path, code)
        if not path.startswith("/health/"):
            assert {"408", "429", "431", "500", "503", "504"} <= set(answers), (method, path)
            assert "Retry-After" in answers["429"]["headers"], (method, path)
            assert "RateLimit" in next(iter(answers.values()))["headers"], (method, path)
        if "security" in operation:
            assert "WWW-Authenticate" in answers["401"]["headers"], (method, path)
        if path.startswith("/api/admin/"):
            assert "403" in answers, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= set(answers), (method, path)
    assert "HTTPValidationError" not in json.dumps(monolith_document)


def test_payment_methods_are_the_cards_payments_accepts(monolith_document: Document) -> None:
    placement = monolith_document["components"]["schemas"]["PlaceOrderRequest"]
    assert placement["properties"]["payment_method"]["enum"] == list(TEST_CARDS)


def test_a_placement_links_to_the_order_it_placed(monolith_document: Document) -> None:
    placed = operations(monolith_document)[("POST", "/api/orders")]["responses"]["202"]
    ids = {operation["operationId"] for operation in operations(monolith_document).values()}
    targets = {link["operationId"] for link in placed["links"].values()}

    assert targets == {"get_order", "cancel_order", "order_details"}
    assert targets <= ids
    assert placed["headers"]["Location"]["required"] is True
    for link in placed["links"].values():
        assert link["parameters"] == {"order_id": "$response.body#/order_id"}


def _first_difference(actual: Any, expected: Any, where: str = "") -> str:
    """Where two JSON documents part, for a readable failure."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        if list(actual) != list(expected):
            return f"{where or '/'}: keys {list(actual)} != {list(expected)}"
        for key in actual:
            if actual[key] != expected[key]:
                return _first_difference(actual[key], expected[key], f"{where}/{key}")
    return f"{where or '/'}: {actual!r} != {expected!r}"


def test_every_operation_says_what_it_does(monolith_document: Document) -> None:
    for key, operation in operations(monolith_document).items():
        assert operation.get("description"), key
    assert monolith_document["info"]["title"] == "shoplab"
