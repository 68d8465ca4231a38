"""The boundaries of DESIGN.md, checked by import-linter's contracts (.importlinter).

Contexts do not import each other; the chassis imports no context; domain code
imports no framework; inside a context, layers depend downwards only.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(config), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
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
