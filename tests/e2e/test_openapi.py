"""Every mode serves the public OpenAPI document the code generates, and its docs page."""

import httpx
import pytest
from starlette.responses import JSONResponse

from shoplab.monolith.app import Monolith
from shoplab.platform.settings import PlatformSettings


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The monolith's document generated in-process, as ``/api/openapi.json`` answers it."""
    settings = PlatformSettings(data_dir=tmp_path_factory.mktemp("openapi"))
    return bytes(JSONResponse(Monolith(settings).app().openapi()).body)


async def test_the_served_document_is_the_generated_one(
    client: httpx.AsyncClient, generated: bytes
) -> None:
    answer = await client.get("/api/openapi.json")

    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/json"
    assert answer.content == generated, _first_difference(answer.content, generated)


async def test_the_docs_page_shows_the_document(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/docs")

    assert page.status_code == 200, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert "/api/openapi.json" in page.text


def _first_difference(served: bytes, generated: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(served, generated, strict=False)) if a != b),
        min(len(served), len(generated)),
    )
    around = slice(max(0, at - 80), at + 80)
    return f"differs at byte {at}: served {served[around]!r}, generated {generated[around]!r}"
