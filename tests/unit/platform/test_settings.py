"""Settings: ``SHOPLAB_*`` variables, a context's own prefix before the shared one, and the
settings a context keeps for itself under the names the system documents."""

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from shoplab.orders.domain.orchestration import Timeouts
from shoplab.orders.settings import OrdersSettings
from shoplab.platform.settings import PlatformSettings, database_url_for


def test_a_context_url_wins_over_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_DATABASE_URL", "postgresql://db/shared")
    monkeypatch.setenv("SHOPLAB_ORDERS_DATABASE_URL", "postgresql://db/orders")
    settings = PlatformSettings()
    assert database_url_for("orders", settings) == "postgresql://db/orders"
    assert database_url_for("payments", settings) == "postgresql://db/shared"


def test_without_urls_each_context_gets_a_file_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHOPLAB_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHOPLAB_INVENTORY_DATABASE_URL", raising=False)
    settings = PlatformSettings(data_dir=tmp_path)
    assert database_url_for("inventory", settings) == f"sqlite:///{tmp_path}/inventory.db"


def test_unsafe_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_TOKEN_TTL_SECONDS", "5")
    with pytest.raises(ValidationError):
        PlatformSettings()
    monkeypatch.setenv("SHOPLAB_TOKEN_TTL_SECONDS", "600")
    monkeypatch.setenv("SHOPLAB_LOG_LEVEL", "chatty")
    with pytest.raises(ValidationError):
        PlatformSettings()


def test_orders_reads_its_saga_timeouts_under_the_documented_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPLAB_SAGA_STEP_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("SHOPLAB_SAGA_STEP_ATTEMPTS", "2")
    assert OrdersSettings().timeouts() == Timeouts(step=timedelta(seconds=0.5), attempts=2)


def test_orders_refuses_a_saga_step_that_is_never_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_SAGA_STEP_ATTEMPTS", "0")
    with pytest.raises(ValidationError):
        OrdersSettings()
