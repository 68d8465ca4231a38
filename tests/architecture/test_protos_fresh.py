"""The committed gRPC stubs are exactly what the .proto contracts generate today.

A contract edited without ``make protos`` would leave services speaking the old
contract while the .proto claims the new one; this test names the stale files.
"""

import shutil
from pathlib import Path

from shoplab.contracts.protos import PROTO_ROOT, STUBS, differences, generate


def test_the_committed_stubs_are_fresh(tmp_path: Path) -> None:
    generate(tmp_path)
    stale = differences(STUBS, tmp_path)
    assert not stale, f"stale stubs in {STUBS} (run `make protos`): {', '.join(stale)}"


def test_a_changed_contract_makes_its_stubs_stale(tmp_path: Path) -> None:
    protos = tmp_path / "proto"
    shutil.copytree(PROTO_ROOT, protos)
    contract = protos / "shoplab" / "inventory" / "v1" / "inventory.proto"
    contract.write_text(contract.read_text() + "\nmessage Added {\n  string field = 1;\n}\n")
    generate(tmp_path / "before")
    generate(tmp_path / "after", protos)
    assert differences(tmp_path / "before", tmp_path / "after") == [
        "inventory/v1/inventory_pb2.py",
        "inventory/v1/inventory_pb2.pyi",
    ]


def test_edited_missing_and_left_over_stubs_are_named(tmp_path: Path) -> None:
    committed = tmp_path / "committed"
    generate(committed)
    (committed / "catalog" / "v1" / "catalog_pb2_grpc.py").write_text("# edited by hand\n")
    (committed / "payments" / "v1" / "payments_pb2.pyi").unlink()
    (committed / "catalog" / "v1" / "catalog_old_pb2.py").write_text("")
    generate(tmp_path / "fresh")
    assert differences(committed, tmp_path / "fresh") == [
        "catalog/v1/catalog_old_pb2.py",
        "catalog/v1/catalog_pb2_grpc.py",
        "payments/v1/payments_pb2.pyi",
    ]
