"""The boundaries of DESIGN.md, checked by import-linter's contracts (.importlinter).

Contexts do not import each other; the chassis imports no context; the monolith, the
services, the gateway and the demo data meet a context only at its bootstrap and its ports;
domain code imports no framework; inside a context, layers depend downwards only.
"""

import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(config: Path, *, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``path``: a folder put first on the Python path, where a probe package lives."""
    env = {**os.environ, "PYTHONPATH": str(path)} if path else None
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(config), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_import_contracts_hold() -> None:
    result = lint_imports(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("KEPT") >= 5
    assert "BROKEN" not in result.stdout


def test_a_crossing_import_would_be_caught(tmp_path: Path) -> None:
    """The monolith imports orders; a contract forbidding that must report it broken."""
    config = tmp_path / "importlinter.ini"
    config.write_text(
        "[importlinter]\nroot_package = shoplab\n\n"
        "[importlinter:contract:probe]\nname = probe\ntype = forbidden\n"
        "source_modules =\n    shoplab.monolith\nforbidden_modules =\n    shoplab.orders\n"
    )
    result = lint_imports(config)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


PROBE = "probe_shop"
PROBE_MODULES = {
    "orders/bootstrap.py": f"from {PROBE}.orders.domain import model\n",
    "orders/domain/model.py": "",
    "orders/service_layer/ports.py": "",
    "orders/adapters/tables.py": "",
    "orders/entrypoints/api.py": "",
    "orders/settings.py": "",
    "monolith/app.py": (
        f"from {PROBE}.orders import bootstrap\nfrom {PROBE}.orders.service_layer import ports\n"
    ),
    "services/__init__.py": "",
    "seed/__init__.py": "",
    "gateway/__init__.py": "",
}


def probe_tree(root: Path) -> None:
    """A tiny system shaped like shoplab: a context, and a monolith using its face."""
    for name, text in PROBE_MODULES.items():
        module = root / PROBE / name
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(text)
    for folder in [root / PROBE, *(root / PROBE).rglob("*")]:
        if folder.is_dir():
            (folder / "__init__.py").touch()


def indented(value: str) -> str:
    """A value of several lines as an ini file holds it: every line after the first indented."""
    return value.replace("\n", "\n    ")


def faces_contract(config: Path) -> None:
    """The real ``faces`` contract of .importlinter, aimed at the probe package."""
    real = configparser.ConfigParser()
    real.read(ROOT / ".importlinter")
    contract = real["importlinter:contract:faces"]
    lines = [f"[importlinter]\nroot_package = {PROBE}\n\n[importlinter:contract:faces]"]
    lines += [f"{key} = {indented(value)}" for key, value in contract.items()]
    config.write_text("\n".join(lines).replace("shoplab.", f"{PROBE}.") + "\n")


def test_the_wiring_reaching_past_a_bootstrap_would_be_caught(tmp_path: Path) -> None:
    """Through the bootstrap and the ports the contract holds; one import of an inner
    layer by the monolith breaks it."""
    config = tmp_path / "importlinter.ini"
    probe_tree(tmp_path)
    faces_contract(config)
    kept = lint_imports(config, path=tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "KEPT" in kept.stdout

    (tmp_path / PROBE / "monolith" / "details.py").write_text(
        f"from {PROBE}.orders.domain.model import *\n"
    )
    broken = lint_imports(config, path=tmp_path)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert f"{PROBE}.monolith.details -> {PROBE}.orders.domain.model" in broken.stdout
