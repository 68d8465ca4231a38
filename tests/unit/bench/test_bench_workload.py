"""The benchmark's plan and arithmetic: seeded, valid for the API, and counted right."""

from collections import Counter

import pytest
from rich.console import Console

from shoplab.bench.report import print_results
from shoplab.bench.runner import percentiles, ratios
from shoplab.bench.workload import CARD_WEIGHTS, PLENTIFUL_ON_HAND, plan

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


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    samples = [n / 1000 for n in range(1, 101)]  # 1 ms to 100 ms
    assert percentiles(samples, (50, 95, 99)) == {"p50": 50.0, "p95": 95.0, "p99": 99.0}
    assert percentiles([0.004], (50, 99)) == {"p50": 4.0, "p99": 4.0}


def _mode(settled: float, placement: float, final: float, cpu: float) -> dict[str, object]:
    return {
        "orders": 100,
        "settled_per_second": settled,
        "placement_ms": {"p50": placement, "p95": placement * 2, "p99": placement * 3},
        "final_ms": {"p50": final, "p99": final * 2},
        "light_load": {"rate_per_second": settled / 10, "final_ms": {"p50": final, "p99": final}},
        "outcomes": {"APPROVED": 90, "OUT_OF_STOCK": 10},
        "errors": {"503": 2},
        "processes": [{"name": "p-1", "cpu_seconds": cpu, "peak_rss_mb": 100.0}],
        "cpu_seconds": cpu,
        "ready_seconds": 3.0,
        "idle_rss_mb": 250.0,
        "idle_pss_mb": 200.0,
        "invariants": {"held": True, "problems": []},
    }


def test_ratios_divide_the_microservices_by_the_monolith() -> None:
    modes = {"monolith": _mode(200, 4, 10, 5), "microservices": _mode(50, 10, 80, 20)}
    assert ratios(modes) == {
        "settled_per_second": 0.25,
        "placement_p50": 2.5,
        "final_p50": 8.0,
        "cpu_seconds": 4.0,
    }
    assert ratios({"monolith": modes["monolith"]}) == {}


def test_the_report_shows_each_mode_the_ratios_and_the_baselines() -> None:
    modes = {"monolith": _mode(200, 4, 10, 5), "microservices": _mode(50, 10, 80, 20)}
    results = {
        "modes": modes,
        "ratios": ratios(modes),
        "baselines": {
            "jetstream": {
                "publish_awaited_per_second": 3000.0,
                "publish_pipelined_per_second": 12000.0,
                "consume_per_second": 11000.0,
            },
            "gateway": {"direct_p50_ms": 2.0, "gateway_p50_ms": 2.5, "added_p50_ms": 0.5},
        },
    }
    console = Console(record=True, width=140)
    print_results(results, console)
    text = console.export_text()
    for expected in ("200.0", "50.0", "0.25x", "8.00x", "12,000 msg/s", "0.50 ms", "503: 2"):
        assert expected in text
