"""The HTTP edge of the chassis: problem details, size limits, readiness."""

import json
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict

from shoplab.platform.errors import Conflict, NotFound
from shoplab.platform.http.app import create_app
from shoplab.platform.http.edge_settings import EdgeSettings
from shoplab.platform.http.internal_guard import ServiceGuard
from shoplab.platform.internal_auth import ServiceCredentials
from shoplab.platform.resilience import deadline

from ..problems import assert_problem

LIMIT = 2_048


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    quantity: int


def sample_app(ready: bool = True) -> FastAPI:
    router = APIRouter()

    @router.get("/missing")
    async def missing() -> None:
        raise NotFound("No such thing.")

    @router.get("/conflict")
    async def conflict() -> None:
        raise Conflict("Already done.")

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("SELECT secret FROM internal_host_db01")

    @router.post("/echo")
    async def echo(body: Body) -> Body:
        return body

    async def check() -> bool:
        return ready

    return create_app(
        title="t",
        routers=[router],
        readiness={"thing": check},
        edge=EdgeSettings(max_body_bytes=LIMIT),
    )


async def call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/conflict", 409)])
async def test_domain_errors_become_problem_details(path: str, status: int) -> None:
    body = assert_problem(await call(sample_app(), "GET", path), status)
    assert body["detail"] in {"No such thing.", "Already done."}


async def test_an_unexpected_error_reveals_nothing() -> None:
    answer = await call(sample_app(), "GET", "/crash")
    body = assert_problem(answer, 500)
    assert "SELECT" not in answer.text
    assert "internal_host" not in answer.text
    assert "Traceback" not in body["detail"]


@pytest.mark.parametrize(
    "payload",
    ['{"quantity": 1, "status": "APPROVED"}', '{"quantity": "1"}', '{"quantity": 1.5}', "{oops"],
    ids=["unknown-field", "string-for-int", "fraction", "malformed"],
)
async def test_invalid_bodies_are_422(payload: str) -> None:
    answer = await call(
        sample_app(), "POST", "/echo", content=payload, headers={"content-type": "application/json"}
    )
    assert assert_problem(answer, 422)["errors"]


async def test_a_declared_oversize_body_is_refused() -> None:
    payload = json.dumps({"quantity": 1, "pad": "x" * LIMIT})
    answer = await call(
        sample_app(), "POST", "/echo", content=payload, headers={"content-type": "application/json"}
    )
    assert_problem(answer, 413)


async def test_a_streamed_oversize_body_is_refused_while_it_arrives() -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1_000

    answer = await call(
        sample_app(),
        "POST",
        "/echo",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_problem(answer, 413)


async def test_readiness_names_the_failing_check() -> None:
    assert (await call(sample_app(), "GET", "/health/ready")).status_code == 200
    answer = await call(sample_app(ready=False), "GET", "/health/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"thing": False}
    assert (await call(sample_app(ready=False), "GET", "/health/live")).status_code == 200


async def test_a_service_serves_a_request_under_the_deadline_its_caller_sent() -> None:
    credentials = ServiceCredentials(b"k" * 32, "gateway")
    seen: list[float | None] = []
    app = FastAPI()

    @app.get("/api/x")
    async def x() -> dict[str, str]:
        seen.append(deadline.remaining())
        return {}

    guarded = ServiceGuard(app, credentials)
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        headers = {**credentials.headers(), "shoplab-timeout-ms": "1500"}
        assert (await client.get("/api/x", headers=headers)).status_code == 200
        assert (await client.get("/api/x", headers=credentials.headers())).status_code == 200
    first, without = seen
    assert first is not None
    assert 1.0 < first <= 1.5
    assert without is None
