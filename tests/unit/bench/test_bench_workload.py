"""The benchmark's plan and arithmetic: seeded, valid for the API, and counted right."""

from collections import Counter
from typing import Any

import pytest
from rich.console import Console

from shoplab.bench.report import print_results
from shoplab.bench.verdicts import ratios, targets
from shoplab.bench.workload import CARD_WEIGHTS, PLENTIFUL_ON_HAND, endless, plan

SKUS = [f"SKU-{n:03}" for n in range(24)]


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    first = plan(SKUS, orders=500, customers=10, seed=1)
    assert plan(SKUS, orders=500, customers=10, seed=1) == first
    assert plan(SKUS, orders=500, customers=10, seed=2).orders != first.orders


def test_every_planned_order_is_a_valid_placement() -> None:
    workload = plan(SKUS, orders=2000, customers=7)
    for order in workload.orders:
        body = order.body()
        skus = [line["sku"] for line in body["items"]]  # type: ignore[attr-defined]
        assert 1 <= len(skus) <= 3
        assert len(set(skus)) == len(skus)
        assert all(sku in SKUS for sku in skus)
        assert all(1 <= quantity <= 3 for _, quantity in order.lines)
        assert body["payment_method"] in CARD_WEIGHTS
        assert 0 <= order.customer < 7


def test_cards_follow_their_weights_and_some_skus_are_scarce() -> None:
    workload = plan(SKUS, orders=10_000, customers=10)
    cards = Counter(order.payment_method for order in workload.orders)
    for card, weight in CARD_WEIGHTS.items():
        assert cards[card] / 10_000 == pytest.approx(weight / 100, abs=0.02)
    scarce = [sku for sku, on_hand in workload.stock.items() if on_hand < PLENTIFUL_ON_HAND]
    assert len(scarce) == 2
    asked = sum(q for o in workload.orders for sku, q in o.lines if sku == scarce[0])
    assert workload.stock[scarce[0]] < asked  # some orders must be rejected for stock


def test_an_endless_stream_begins_with_the_plan() -> None:
    stream = endless(SKUS, customers=10, seed=3)
    assert (
        tuple(next(stream) for _ in range(300))
        == plan(SKUS, orders=300, customers=10, seed=3).orders
    )


def _mode(settled: float, placement: float, final: float, cpu_ms: float) -> dict[str, object]:
    point = {
        "concurrency": 64,
        "settled_per_second": settled,
        "placed_per_second": settled,
        "placement_ms": {"p50": placement, "p99": placement * 3},
        "final_ms": {"p50": final, "p99": final * 2},
        "cpu_ms_per_order": cpu_ms,
        "client_cpu_share": 0.02,
        "refusals": {"503": 2},
    }
    return {
        **point,
        "throughput": [point],
        "knee": {"concurrency": 64, "settled_per_second": settled},
        "light_load": {
            "rate_per_second": settled / 10,
            "orders": 200,
            "final_ms": {"p50": final, "p99": final},
            "placement_ms": {"p50": placement, "p99": placement},
        },
        "overload": {
            "offered_per_second": settled * 4,
            "settled_per_second": settled * 0.9,
            "ratio_to_peak": 0.9,
            "accepted": 100,
            "offered": 400,
            "refusals": {"503": 300},
            "refusals_with_retry_after": 300,
            "refusals_without_retry_after": 0,
        },
        "outcomes": {"APPROVED": 90, "REJECTED": 10},
        "processes": [{"name": "p-1", "cpu_seconds": 1.0, "peak_rss_mb": 100.0}],
        "idle_cpu": {"seconds": 5, "ms_per_second": {"p-1": 3.0}, "total_ms_per_second": 3.0},
        "orders": 100,
        "ready_seconds": 3.0,
        "idle_rss_mb": 250.0,
        "idle_pss_mb": 200.0,
        "invariants": {"held": True, "problems": []},
    }


def test_ratios_divide_the_microservices_by_the_monolith_and_each_by_the_floor() -> None:
    modes = {"monolith": _mode(200, 4, 10, 5), "microservices": _mode(50, 10, 80, 20)}
    floor = _mode(1000, 1, 2, 1)
    assert ratios(modes, None) == {
        "settled_per_second": 0.25,
        "placement_p50": 2.5,
        "final_p50": 8.0,
        "cpu_ms_per_order": 4.0,
    }
    with_floor = ratios(modes, floor)
    assert with_floor["microservices_over_floor"] == 0.05
    assert with_floor["monolith_over_floor"] == 0.2
    assert with_floor["microservices_cpu_over_floor"] == 20.0
    assert ratios({"monolith": modes["monolith"]}, None) == {}


def test_the_report_shows_each_mode_the_floor_the_ratios_and_the_targets() -> None:
    modes = {"monolith": _mode(200, 4, 10, 5), "microservices": _mode(50, 10, 80, 20)}
    results: dict[str, Any] = {
        "modes": modes,
        "floor": _mode(1000, 1, 2, 1),
        "baselines": {
            "jetstream": {
                "publish_awaited_per_second": 3000.0,
                "publish_pipelined_per_second": 12000.0,
                "consume_per_second": 11000.0,
            },
            "gateway": {"direct_p50_ms": 2.0, "gateway_p50_ms": 2.5, "added_p50_ms": 0.5},
        },
    }
    results["ratios"] = ratios(modes, results["floor"])
    results["targets"] = targets(results)
    console = Console(record=True, width=160)
    print_results(results, console)
    text = console.export_text()
    for expected in ("200.0", "1,000.0", "0.25", "12,000 msg/s", "0.50 ms", "503: 300", "floor"):
        assert expected in text
    verdicts = {(row["target"], row["mode"]): row["met"] for row in results["targets"]}
    assert verdicts[("settled orders/s", "monolith")] is False
    assert verdicts[("gateway added latency p50 (ms)", "microservices")] is True
    assert verdicts[("overload: settled ÷ peak", "monolith")] is True
