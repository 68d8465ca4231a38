"""Fixtures: one running system per deployment mode for the whole session."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from .api import Customer, System
from .launcher import Launched, ModeSpec, launch, mode_params, running, stop


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``lifecycle_only`` run against the monolith and the microservices only:
    their other modes are deselected. They keep the ``system`` fixture's whole list of
    modes, each at its own index, so that they share the session's running systems
    (pytest orders a session fixture's tests by the index of its parameter)."""
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        mode = callspec.params.get("system") if callspec is not None else None
        if (
            isinstance(mode, ModeSpec)
            and not mode.lifecycle
            and item.get_closest_marker("lifecycle_only")
        ):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session", params=mode_params())
def system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """Start the system once per mode; every test of that mode talks to it over HTTP."""
    mode: ModeSpec = request.param
    launched = launch(mode, tmp_path_factory.mktemp(f"shoplab-{mode.name}"))
    try:
        yield System.of(launched)
    finally:
        code = stop(launched)
        if code != 0:
            warnings.warn(
                f"shoplab ({mode.name}) did not stop cleanly on SIGTERM (exit code {code}); "
                f"output:\n{launched.output(4000)}",
                stacklevel=1,
            )


@pytest.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to the system under test."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=system.base_url, timeout=30.0, limits=limits) as http:
        yield http


@pytest.fixture
async def admin(system: System, client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization headers of the administrator."""
    return await system.admin_headers(client)


@pytest.fixture
async def customer(system: System, client: httpx.AsyncClient) -> Customer:
    """A freshly registered customer, so no test sees another test's orders."""
    return await system.register_customer(client)


@pytest.fixture
async def other_customer(system: System, client: httpx.AsyncClient) -> Customer:
    """A second fresh customer, for isolation checks."""
    return await system.register_customer(client)


@pytest.fixture(params=mode_params(lifecycle=True))
def fresh_system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Launched]:
    """A system of its own, for tests that stop it."""
    mode: ModeSpec = request.param
    with running(mode, tmp_path / f"shoplab-{mode.name}") as launched:
        yield launched
