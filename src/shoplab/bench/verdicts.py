"""The ratios measured side by side, and the targets beside what was measured."""

from typing import Any

CLIENT_CPU_BOUND = 0.05
"""The client's CPU may be at most this share of the system's, or its figures are suspect."""


def ratios(modes: dict[str, Any], floor: dict[str, Any] | None) -> dict[str, float]:
    """Microservices over monolith, and each mode over the floor, where both ran."""
    found: dict[str, float] = {}
    micro, mono = modes.get("microservices"), modes.get("monolith")
    if micro and mono:
        found |= {
            "settled_per_second": _over(micro["settled_per_second"], mono["settled_per_second"]),
            "placement_p50": _over(micro["placement_ms"]["p50"], mono["placement_ms"]["p50"]),
            "final_p50": _over(
                micro["light_load"]["final_ms"]["p50"], mono["light_load"]["final_ms"]["p50"]
            ),
            "cpu_ms_per_order": _over(micro["cpu_ms_per_order"], mono["cpu_ms_per_order"]),
        }
    if floor:
        for name, mode in modes.items():
            found[f"{name}_over_floor"] = _over(
                mode["settled_per_second"], floor["settled_per_second"]
            )
            found[f"{name}_cpu_over_floor"] = _over(
                mode["cpu_ms_per_order"], floor["cpu_ms_per_order"]
            )
    return found


def _over(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


# (label, mode or None for the run, how to read the figure, "min" or "max", the target)
TARGETS: list[tuple[str, str, tuple[str, ...], str, float]] = [
    ("settled orders/s", "microservices", ("settled_per_second",), "min", 300),
    ("settled orders/s", "monolith", ("settled_per_second",), "min", 1000),
    ("CPU ms per order", "microservices", ("cpu_ms_per_order",), "max", 6),
    ("CPU ms per order", "monolith", ("cpu_ms_per_order",), "max", 1.5),
    (
        "light load: time to final p50 (ms)",
        "microservices",
        ("light_load", "final_ms", "p50"),
        "max",
        15,
    ),
    ("light load: time to final p50 (ms)", "monolith", ("light_load", "final_ms", "p50"), "max", 3),
    ("overload: settled ÷ peak", "microservices", ("overload", "ratio_to_peak"), "min", 0.8),
    ("overload: settled ÷ peak", "monolith", ("overload", "ratio_to_peak"), "min", 0.8),
    ("idle memory, sum of PSS (MB)", "microservices", ("idle_pss_mb",), "max", 700),
    ("ready after (s)", "microservices", ("ready_seconds",), "max", 8),
    ("ready after (s)", "monolith", ("ready_seconds",), "max", 8),
    (
        "client CPU ÷ system CPU, at the knee",
        "microservices",
        ("client_cpu_share",),
        "max",
        CLIENT_CPU_BOUND,
    ),
    (
        "client CPU ÷ system CPU, at the knee",
        "monolith",
        ("client_cpu_share",),
        "max",
        CLIENT_CPU_BOUND,
    ),
]


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it was met (None: not measured)."""
    rows = []
    for label, mode, path, sense, goal in TARGETS:
        rows.append(_row(label, mode, _read(results["modes"].get(mode), path), sense, goal))
    gateway = (results["baselines"] or {}).get("gateway") or {}
    rows.append(
        _row(
            "gateway added latency p50 (ms)",
            "microservices",
            gateway.get("added_p50_ms"),
            "max",
            0.5,
        )
    )
    ratio = (results.get("ratios") or {}).get("microservices_over_floor")
    rows.append(_row("settled orders/s ÷ floor's", "microservices", ratio, "min", 0.1))
    floor = results.get("floor")
    if floor:
        share = floor.get("client_cpu_share")
        rows.append(
            _row("client CPU ÷ system CPU, at the knee", "floor", share, "max", CLIENT_CPU_BOUND)
        )
    return rows


def _read(figures: dict[str, Any] | None, path: tuple[str, ...]) -> float | None:
    value: Any = figures
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, int | float) else None


def _row(label: str, mode: str, value: float | None, sense: str, goal: float) -> dict[str, Any]:
    met = None if value is None else (value >= goal if sense == "min" else value <= goal)
    return {
        "target": label,
        "mode": mode,
        "goal": goal,
        "sense": sense,
        "measured": value,
        "met": met,
    }
