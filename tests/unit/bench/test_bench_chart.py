"""The bench chart: a readable PNG from whatever parts of the results a run produced."""

import copy
from pathlib import Path
from typing import Any

import pytest

from shoplab.bench.chart import _settings_lines, draw

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _mode(settled: float, processes: list[tuple[str, float, float]]) -> dict[str, Any]:
    return {
        "settled_per_second": settled,
        "placed_per_second": settled * 1.2,
        "placement_ms": {"p50": 4.1, "p95": 12.5, "p99": 30.2},
        "final_ms": {"p50": 9.0, "p99": 80.0},
        "light_load": {
            "rate_per_second": 20.0,
            "final_ms": {"p50": 6.0, "p99": 15.0},
            "placement_ms": {"p50": 3.0, "p95": 5.0, "p99": 7.5},
        },
        "outcomes": {"APPROVED": 1810, "REJECTED": 190},
        "errors": {"429": 0, "timeout": 2},
        "processes": [
            {"name": name, "cpu_seconds": cpu, "peak_rss_mb": rss} for name, cpu, rss in processes
        ],
        "ready_seconds": 2.5,
        "idle_rss_mb": 95.0,
        "invariants": {"held": True, "problems": []},
    }


SAMPLE: dict[str, Any] = {
    "started_at": "2026-01-05T10:00:00+00:00",
    "command": "shoplab bench --orders 2000",
    "machine": {"cpus": 2, "python": "3.11.9", "platform": "Linux-6.1-x86_64"},
    "settings": {
        "concurrencies": [16, 64, 256],
        "window_seconds": 20.0,
        "customers": 200,
        "seed": 7,
        "fsync": False,
    },
    "modes": {
        "monolith": _mode(410.0, [("monolith-1", 21.0, 180.0)]),
        "microservices": _mode(
            95.0,
            [
                ("gateway-1", 9.0, 120.0),
                ("orders-1", 12.0, 130.0),
                ("inventory-1", 6.0, 110.0),
                ("payments-1", 5.0, 105.0),
                ("nats-1", 2.5, 40.0),
            ],
        ),
    },
    "ratios": {
        "settled_per_second": 0.23,
        "placement_p50": 2.1,
        "final_p50": 4.4,
        "cpu_seconds": 1.6,
    },
    "baselines": {
        "jetstream": {
            "publish_awaited_per_second": 2100.0,
            "publish_pipelined_per_second": 9000.0,
            "consume_per_second": 7000.0,
            "messages": 20000,
            "payload_bytes": 512,
            "fsync": False,
        },
        "gateway": {"direct_p50_ms": 1.8, "gateway_p50_ms": 3.1, "added_p50_ms": 1.3},
    },
}


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), data[:16]
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    assert (width, height) == (1980, 900)  # 22 x 10 inches at 90 dpi
    assert len(data) > 10_000  # a blank canvas of this size compresses below that


def test_draws_both_modes_and_the_baselines(tmp_path: Path) -> None:
    path = tmp_path / "bench.png"
    draw(SAMPLE, path)
    _assert_png(path)


def test_one_mode_without_light_load_or_baselines_still_draws(tmp_path: Path) -> None:
    results = copy.deepcopy(SAMPLE)
    del results["modes"]["microservices"]
    del results["modes"]["monolith"]["light_load"]
    results["ratios"] = {}
    results["baselines"] = {"jetstream": None, "gateway": None}
    path = tmp_path / "one.png"
    draw(results, path)
    _assert_png(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("baselines"),
        lambda r: r["modes"]["monolith"].pop("processes"),
        lambda r: r["modes"]["microservices"]["invariants"].update(
            held=False, problems=["order 42 stayed PENDING"]
        ),
        lambda r: r["modes"].clear(),
    ],
    ids=["no-baselines", "no-process-figures", "broken-invariants", "no-modes"],
)
def test_tolerates_missing_or_failed_parts(tmp_path: Path, damage: Any) -> None:
    results = copy.deepcopy(SAMPLE)
    damage(results)
    path = tmp_path / "partial.png"
    draw(results, path)
    _assert_png(path)


def test_the_run_panel_says_how_the_run_was_measured() -> None:
    first = _settings_lines(SAMPLE)[0]
    assert first == "16, 64, 256 in flight, 20.0 s windows, 200 customers, seed 7"
