"""The boundaries of the design, checked by import-linter's contracts (.importlinter).

Contexts do not import each other; the chassis imports no context; the monolith, the
services, the gateway and the demo data meet a context only at its bootstrap and its ports;
domain code imports no framework; inside a context, layers depend downwards only; the
command, the operator's tools and the supervisor depend one way; only the broker adapters
import the broker clients; and no package holds an import circle. Each kind of contract is
also shown to catch a violation, so that a contract that checks nothing cannot pass for one
that holds.
"""

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
CONTRACT = "importlinter:contract:"


def lint_imports(config: Path, *, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on ``config``; ``path`` is searched first for the root package."""
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    return subprocess.run(
        [LINT_IMPORTS, str(config), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser


def contract_ids(kind: str) -> list[str]:
    parser = contracts()
    return [
        section.removeprefix(CONTRACT)
        for section in parser.sections()
        if section.startswith(CONTRACT) and parser[section]["type"] == kind
    ]


def write_config(path: Path, sections: dict[str, dict[str, str]], root: str = "shoplab") -> Path:
    """An import-linter configuration holding only ``sections`` (contract id: options)."""
    parser = configparser.ConfigParser()
    parser["importlinter"] = {"root_package": root, "include_external_packages": "True"}
    for contract_id, options in sections.items():
        parser[CONTRACT + contract_id] = options
    with path.open("w") as file:
        parser.write(file)
    return path


def test_import_contracts_hold() -> None:
    declared = [section for section in contracts().sections() if section.startswith(CONTRACT)]
    result = lint_imports(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" KEPT") == len(declared) >= 12
    assert "BROKEN" not in result.stdout


def test_a_crossing_import_would_be_caught(tmp_path: Path) -> None:
    """The monolith imports orders; a contract forbidding that must report it broken."""
    config = write_config(
        tmp_path / "importlinter.ini",
        {
            "probe": {
                "name": "probe",
                "type": "forbidden",
                "source_modules": "shoplab.monolith",
                "forbidden_modules": "shoplab.orders",
            }
        },
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


@pytest.mark.parametrize("contract_id", contract_ids("protected"))
def test_a_client_imported_outside_its_adapter_would_be_caught(
    tmp_path: Path, contract_id: str
) -> None:
    """The same contract, with the adapters taken off its list, must name them as importers."""
    options = dict(contracts()[CONTRACT + contract_id])
    adapters = options["allowed_importers"].split()
    options["allowed_importers"] = "shoplab.contracts"
    result = lint_imports(write_config(tmp_path / "importlinter.ini", {contract_id: options}))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert any(f"- {adapter}" in result.stdout for adapter in adapters), result.stdout


def test_the_command_above_the_tools_above_the_supervisor_is_checked(tmp_path: Path) -> None:
    """The same layers upside down must break: the command imports the tools and the supervisor."""
    (contract_id,) = [
        c for c in contract_ids("layers") if "shoplab.cli" in contracts()[CONTRACT + c]["layers"]
    ]
    options = dict(contracts()[CONTRACT + contract_id])
    options["layers"] = "\n".join(reversed(options["layers"].split()))
    result = lint_imports(write_config(tmp_path / "importlinter.ini", {contract_id: options}))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "shoplab.cli" in result.stdout


def test_an_import_circle_would_be_caught(tmp_path: Path) -> None:
    """The no-circle contract, on a package whose two modules import each other."""
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "supervisor.py").write_text("from circled import tools\n")
    (package / "tools.py").write_text("from circled import supervisor\n")
    (contract_id,) = contract_ids("acyclic_siblings")
    options = dict(contracts()[CONTRACT + contract_id])
    options["ancestors"] = "circled"
    config = write_config(tmp_path / "importlinter.ini", {contract_id: options}, root="circled")
    result = lint_imports(config, path=tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert "No cycles are allowed in circled" in result.stdout
