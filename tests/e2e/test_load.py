"""``shoplab load``: Locust and its script against a real monolith place orders, none failing."""

import csv
from pathlib import Path

from shoplab.bench.load import run_load

from .launcher import MODES, running

MONOLITH = next(mode for mode in MODES if mode.name == "monolith")


def _stats(prefix: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Locust's final table from ``--csv``, by (method, request name)."""
    with Path(f"{prefix}_stats.csv").open(newline="") as file:
        return {(row["Type"], row["Name"]): row for row in csv.DictReader(file)}


def test_locust_places_orders_without_failures(tmp_path: Path) -> None:
    prefix = tmp_path / "load"
    options = ["--only-summary", "--exit-code-on-error", "1", "--csv", str(prefix)]
    with running(MONOLITH, tmp_path / "shoplab") as launched:
        code = run_load(launched.base_url, 3, 3, "8s", True, options)

    stats = _stats(prefix)
    failures = Path(f"{prefix}_failures.csv").read_text()
    assert code == 0, failures
    assert stats[("", "Aggregated")]["Failure Count"] == "0", failures
    assert int(stats[("POST", "/api/auth/register")]["Request Count"]) == 3
    assert int(stats[("POST", "/api/auth/token")]["Request Count"]) == 3
    assert int(stats[("POST", "/api/orders")]["Request Count"]) > 3
