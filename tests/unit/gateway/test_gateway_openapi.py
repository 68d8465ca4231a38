"""The gateway's public contract: each operation from the service that serves it."""

from typing import Any

import pytest

from shoplab.gateway import routes
from shoplab.gateway.openapi import composed_document, merge


def operation(summary: str, schema: str | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    return {"summary": summary, "responses": {"200": {"content": content} if schema else {}}}


def document(
    operations: dict[tuple[str, str], dict[str, Any]], schemas: dict[str, Any] | None = None
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for (method, path), each in operations.items():
        paths.setdefault(path, {})[method] = each
    return {
        "openapi": "3.1.0",
        "info": {"title": "one service", "version": "0.1.0"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


PROBE = {("get", "/health/live"): operation("Live")}


def test_each_operation_comes_from_the_service_the_gateway_routes_it_to() -> None:
    orders = document(
        {
            ("post", "/api/orders"): operation("orders places", "Accepted"),
            ("get", "/api/orders"): operation("orders lists", "OrdersOwnList"),
            **PROBE,
        },
        {"Accepted": {"type": "object"}, "OrdersOwnList": {"type": "array"}},
    )
    history = document(
        {
            ("get", "/api/orders"): operation("history lists", "OrderList"),
            ("get", "/api/admin/history/status"): operation("lag"),
            **PROBE,
        },
        {"OrderList": {"type": "object"}},
    )
    identity = document({("get", "/.well-known/jwks.json"): operation("keys"), **PROBE})

    merged = merge({"orders": orders, "history": history, "identity": identity})

    assert merged["info"]["title"] == "shoplab"
    assert list(merged["paths"]) == ["/.well-known/jwks.json", "/api/orders", "/health/live"]
    assert list(merged["paths"]["/api/orders"]) == ["get", "post"]
    assert merged["paths"]["/api/orders"]["get"]["summary"] == "history lists"
    assert merged["paths"]["/api/orders"]["post"]["summary"] == "orders places"
    assert list(merged["components"]["schemas"]) == ["Accepted", "OrderList"]


def test_the_order_details_are_the_gateways_own_in_the_services_shapes() -> None:
    orders = document({("get", "/api/orders/{order_id}/details"): operation("not orders'")})

    merged = merge({"orders": orders, routes.COMPOSED: composed_document()})

    details = merged["paths"]["/api/orders/{order_id}/details"]["get"]
    assert details["operationId"] == "order_details"
    assert set(details["responses"]) >= {"200", "401", "404"}
    schemas = merged["components"]["schemas"]
    assert schemas["OrderDetails"]["properties"]["order"] == {
        "$ref": "#/components/schemas/OrderView"
    }
    assert set(schemas["OrderView"]["required"]) >= {"order_id", "customer_id", "items"}


def test_two_services_describing_one_schema_differently_is_an_error() -> None:
    catalog = document(
        {("get", "/api/products"): operation("list", "Money")}, {"Money": {"type": "integer"}}
    )
    payments = document(
        {("get", "/api/admin/payments"): operation("payment", "Money")},
        {"Money": {"type": "string"}},
    )

    with pytest.raises(ValueError, match="schemas Money"):
        merge({"catalog": catalog, "payments": payments})
