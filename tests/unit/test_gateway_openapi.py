"""The gateway's public contract is the union of the services' public paths and schemas."""

from shoplab.gateway.openapi import merge


def document(paths: dict[str, str], schemas: list[str]) -> dict[str, object]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "one service", "version": "0.1.0"},
        "paths": {path: {method: {"summary": path}} for path, method in paths.items()},
        "components": {"schemas": {name: {"type": "object"} for name in schemas}},
    }


def test_public_paths_and_schemas_of_every_service_are_merged() -> None:
    orders = document(
        {"/api/orders": "post", "/health/ready": "get", "/internal/x": "get"}, ["OrderView"]
    )
    orders_get = document({"/api/orders": "get"}, ["OrderList"])
    identity = document({"/api/auth/token": "post", "/.well-known/jwks.json": "get"}, ["Token"])

    merged = merge("shoplab", [orders, orders_get, identity])

    assert merged["info"] == {"title": "shoplab", "version": "1.0.0"}
    assert list(merged["paths"]) == ["/.well-known/jwks.json", "/api/auth/token", "/api/orders"]
    assert set(merged["paths"]["/api/orders"]) == {"get", "post"}
    assert set(merged["components"]["schemas"]) == {"OrderList", "OrderView", "Token"}
