"""``shoplab bench``: both modes started fresh, the workload driven, the invariants checked.

A small run (two short steps, no floor, no baselines): this checks that the benchmark
measures what it says, not how fast the machine is. The figures live in docs/performance.md.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH_TIMEOUT_S = 300


def test_bench_runs_both_modes_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "results"
    command = [sys.executable, "-m", "shoplab", "bench", "--quick", "--concurrencies", "2,4"]
    command += ["--window", "3", "--warmup", "1", "--no-floor", "--no-baselines"]
    command += ["--light-orders", "20", "--light-seconds", "2", "--overload-seconds", "2"]
    command += ["--idle-seconds", "1"]
    command += ["--out", str(out), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads(done.stdout)
    assert set(results["modes"]) == {"monolith", "microservices"}
    for name, mode in results["modes"].items():
        assert mode["invariants"] == {"held": True, "problems": []}, name
        settled = sum(mode["outcomes"].values())
        assert settled == mode["orders"] >= mode["light_load"]["orders"] == 20, name
        assert [p["concurrency"] for p in mode["throughput"]] == [2, 4]
        assert mode["knee"]["concurrency"] in (2, 4)
        assert mode["settled_per_second"] > 0
        assert mode["overload"]["accepted"] + mode["overload"]["refused"] > 0
        assert 0 < mode["placement_ms"]["p50"] <= mode["placement_ms"]["p99"]
        assert 0 < mode["final_ms"]["p50"] <= mode["final_ms"]["p99"]
        names = {process["name"] for process in mode["processes"]}
        assert ("monolith-1" in names) if name == "monolith" else {"orders-1", "gateway-1"} <= names
        assert mode["idle_pss_mb"] > 0
    assert set(results["ratios"]) == {
        "settled_per_second",
        "placement_p50",
        "final_p50",
        "cpu_ms_per_order",
    }
    assert results["floor"] is None
    assert {row["mode"] for row in results["targets"]} >= {"monolith", "microservices"}
    saved = sorted(path.suffix for path in out.iterdir())
    assert saved == [".json", ".png"]
    assert json.loads(next(out.glob("*.json")).read_text()) == results
