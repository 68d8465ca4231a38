"""The boundaries of the design, checked by import-linter's contracts (.importlinter).

Contexts do not import each other; the chassis imports no context; domain code
imports no framework; inside a context, layers depend downwards only; the command,
the operator's tools and the supervisor depend one way; only the broker adapters
import the broker clients; and no package holds an import circle. Each kind of
contract is also shown to catch a violation, so that a contract that checks
nothing cannot pass for one that holds.
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
