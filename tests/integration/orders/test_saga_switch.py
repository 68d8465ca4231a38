"""``--saga``: the setting that chooses the saga style reaches every service, and nowhere else.

The flows themselves are tested in ``test_choreography.py`` and by the e2e suite in the
choreography modes of ``tests/e2e/launcher.py``.
"""

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from shoplab.cli import app
from shoplab.platform.settings import PlatformSettings
from shoplab.runtime.plans import RunOptions, microservices_plan, monolith_plan
from shoplab.runtime.ports import free_ports

DATA_DIR = Path("/srv/shop")


def test_every_process_of_a_choreographed_run_reads_the_same_saga_style() -> None:
    options = RunOptions("microservices", 8080, DATA_DIR, saga="choreography")
    run = microservices_plan(options)
    styles = {spec.name: spec.env.get("SHOPLAB_SAGA") for spec in run.processes}
    assert {name: style for name, style in styles.items() if name != "nats-1"} == {
        name: "choreography" for name in styles if name != "nats-1"
    }


def test_orchestration_is_the_default() -> None:
    run = microservices_plan(RunOptions("microservices", 8080, DATA_DIR))
    orders = next(spec for spec in run.processes if spec.name == "orders-1")
    assert orders.env["SHOPLAB_SAGA"] == "orchestration"
    assert PlatformSettings().saga == "orchestration"


def test_the_monolith_has_no_saga_to_choose() -> None:
    run = monolith_plan(RunOptions("monolith", 8080, DATA_DIR))
    assert "SHOPLAB_SAGA" not in run.processes[0].env


def test_an_unknown_saga_style_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAB_SAGA", "telepathy")
    with pytest.raises(ValidationError):
        PlatformSettings()


def test_up_refuses_a_saga_for_the_monolith(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("up", "--mode", "monolith", "--saga", "choreography"),
            *("--port", str(free_ports(1)[0]), "--data-dir", str(tmp_path)),
        ],
    )
    assert result.exit_code != 0
    assert "--saga is for the microservices mode" in result.output
