"""The gateway's lane names each path as the router would, and leaves it what it must answer."""

from pathlib import Path

import pytest

from shoplab.gateway import routes
from shoplab.gateway.app import Gateway
from shoplab.gateway.lane import PublicLane
from shoplab.platform.http.metrics import route_of
from shoplab.platform.internal_auth import ensure_service_secret
from shoplab.platform.settings import PlatformSettings

PATHS = [
    "/api/orders/o1",
    "/api/orders/o1/details",
    "/api/products",
    "/api/nobody/serves/this",
    "/api/",
    "/api/openapi.json",
    "/api/docs",
    "/.well-known/jwks.json",
    "/.well-known/other",
    "/api",
    "/api/a\nb",
    "/health/live",
    "/metrics",
    "/elsewhere",
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Gateway:
    data_dir: Path = tmp_path_factory.mktemp("lane")
    ensure_service_secret(data_dir)
    urls = {name: f"http://127.0.0.1:{9000 + i}" for i, name in enumerate(sorted(routes.SERVICES))}
    return Gateway(PlatformSettings(data_dir=data_dir, service_urls=urls))


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "CONNECT"])
@pytest.mark.parametrize("path", PATHS)
def test_the_lane_names_a_path_as_the_router_does(gateway: Gateway, path: str, method: str) -> None:
    app = gateway.app()
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "app": app}
    named = PublicLane(gateway.proxy).template(path)
    assert named is None or named == route_of(scope)


def test_the_lane_names_the_public_paths_itself(gateway: Gateway) -> None:
    lane = PublicLane(gateway.proxy)
    assert lane.template("/api/orders/o1") == "/api/{path:path}"
    assert lane.template("/.well-known/jwks.json") == "/.well-known/{path:path}"
    assert lane.template("/api/openapi.json") is None
