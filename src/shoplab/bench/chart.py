"""One PNG that compares the modes of a bench run at a glance, beside the baselines.

Drawn with matplotlib's object API on the Agg canvas: no display, no pyplot state shared
between calls, so it draws the same in a terminal, in CI, or from a thread. Every part but
the top-level keys is optional: a run of one mode, or without baselines, still draws, and
a panel with nothing to show says so.
"""

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

MODE_COLORS = {"monolith": "#4c72b0", "microservices": "#dd8452"}
OTHER_COLORS = ("#55a868", "#c44e52", "#8172b3", "#937860")
BASELINE_COLOR = "#8c8c8c"
LIGHT_LOAD_HATCH = "//"

Mode = dict[str, Any]


def draw(results: dict[str, Any], path: Path) -> None:
    """Write the chart of ``results`` (the runner's dictionary) to ``path`` as a PNG."""
    modes: dict[str, Mode] = {k: v for k, v in (results.get("modes") or {}).items() if v}
    baselines = results.get("baselines") or {}
    figure = Figure(figsize=(22, 10), layout="constrained")
    (top, bottom) = figure.subplots(2, 4)
    _throughput(top[0], modes, results.get("floor"))
    _latency(top[1], modes, "placement_ms", "Placement latency (ms)")
    _latency(top[2], modes, "final_ms", "Time to final status (ms)")
    _summary(top[3], results, modes)
    _per_process(bottom[0], modes, "cpu_seconds", "CPU seconds per process", legend=True)
    _per_process(bottom[1], modes, "peak_rss_mb", "Peak RSS per process (MB)", legend=False)
    _jetstream(bottom[2], baselines.get("jetstream"))
    _gateway(bottom[3], baselines.get("gateway"))
    figure.suptitle(f"shoplab bench: {' vs '.join(modes) or 'no mode measured'}", fontsize=16)
    figure.savefig(path, format="png", dpi=90)


def _throughput(axes: Axes, modes: dict[str, Mode], floor: Mode | None) -> None:
    """Settled orders/s by concurrency, a line per mode (and the floor), the knee marked."""
    curves = {name: mode for name, mode in modes.items() if mode.get("throughput")}
    if floor and floor.get("throughput"):
        curves["floor"] = floor
    if not curves:
        series = {name: [mode.get("settled_per_second")] for name, mode in modes.items()}
        _grouped(axes, ["settled"], series)
        axes.set_title("Settled orders per second (more is better)")
        return
    for index, (name, mode) in enumerate(curves.items()):
        points = mode["throughput"]
        x = [point["concurrency"] for point in points]
        y = [point["settled_per_second"] for point in points]
        color = BASELINE_COLOR if name == "floor" else _mode_color(name, index)
        axes.plot(x, y, marker="o", color=color, label=name)
        knee = (mode.get("knee") or {}).get("concurrency")
        for cx, cy in zip(x, y, strict=True):
            axes.annotate(
                _short(cy),
                (cx, cy),
                textcoords="offset points",
                xytext=(0, 5),
                ha="center",
                fontsize=8,
            )
            if cx == knee:
                axes.plot([cx], [cy], marker="*", markersize=16, color=color)
    axes.set_xscale("log", base=2)
    axes.set_xlabel("orders in flight (log scale; * the knee)")
    axes.set_yscale("log")
    axes.legend(fontsize=9, loc="upper left")
    axes.set_title("Settled orders per second by concurrency (more is better)")


def _latency(axes: Axes, modes: dict[str, Mode], key: str, title: str) -> None:
    """Percentiles under full load, then (hatched) under light load when it was measured."""
    full = {name: mode.get(key) or {} for name, mode in modes.items()}
    light = {name: (mode.get("light_load") or {}).get(key) or {} for name, mode in modes.items()}
    percentiles = sorted({p for values in full.values() for p in values}, key=_percentile_rank)
    light_percentiles = sorted({p for v in light.values() for p in v}, key=_percentile_rank)
    series = {
        name: [full[name].get(p) for p in percentiles]
        + [light[name].get(p) for p in light_percentiles]
        for name in modes
    }
    hatched = set(range(len(percentiles), len(percentiles) + len(light_percentiles)))
    _grouped(axes, percentiles + light_percentiles, series, hatched=hatched)
    axes.set_title(f"{title} (less is better)")
    if percentiles and light_percentiles:
        axes.axvline(len(percentiles) - 0.5, color="gray", linewidth=0.8, linestyle=":")
        rates = [(m.get("light_load") or {}).get("rate_per_second") for m in modes.values()]
        rate = next((f" ({_short(r)}/s)" for r in rates if isinstance(r, int | float)), "")
        middle = len(percentiles) + (len(light_percentiles) - 1) / 2
        axes.annotate(
            f"light load{rate}",
            (middle, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -12),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            color="dimgray",
        )


def _percentile_rank(name: str) -> float:
    try:
        return float(name.removeprefix("p"))
    except ValueError:
        return float("inf")


def _grouped(
    axes: Axes,
    groups: Sequence[str],
    series: dict[str, list[Any]],
    *,
    hatched: set[int] | None = None,
) -> None:
    """Bars side by side: one group per label, one bar per series (mode) in each group."""
    if not groups or not any(v is not None for values in series.values() for v in values):
        _nothing(axes, "not measured")
        return
    width = 0.8 / max(len(series), 1)
    for index, (name, values) in enumerate(series.items()):
        shown = [(g, v) for g, v in enumerate(values) if isinstance(v, int | float)]
        x = [g - 0.4 + width * (index + 0.5) for g, _ in shown]
        bars = axes.bar(x, [v for _, v in shown], width, label=name, color=_mode_color(name, index))
        for (group, _), bar in zip(shown, bars, strict=True):
            if hatched and group in hatched:
                bar.set_hatch(LIGHT_LOAD_HATCH)
        axes.bar_label(bars, labels=[_short(v) for _, v in shown], fontsize=8, padding=2)
    axes.set_xticks(range(len(groups)), list(groups))
    axes.margins(y=0.15)
    axes.legend(fontsize=9, loc="upper left")


def _per_process(axes: Axes, modes: dict[str, Mode], key: str, title: str, *, legend: bool) -> None:
    """One stacked bar per mode, a segment per process; the total on top."""
    stacks = {name: _process_values(mode, key) for name, mode in modes.items()}
    stacks = {name: values for name, values in stacks.items() if values}
    if not stacks:
        _nothing(axes, "not measured")
        axes.set_title(title)
        return
    names = sorted({process for values in stacks.values() for process in values})
    palette = colormaps["tab20"]
    colors = {process: palette(i % 20) for i, process in enumerate(names)}
    for x, values in enumerate(stacks.values()):
        bottom = 0.0
        for process, value in sorted(values.items(), key=lambda item: -item[1]):
            label = process if legend else None
            axes.bar(x, value, 0.6, bottom=bottom, color=colors[process], label=label)
            bottom += value
        axes.annotate(_short(bottom), (x, bottom), ha="center", va="bottom", fontsize=9)
    axes.set_xticks(range(len(stacks)), list(stacks))
    axes.margins(y=0.12)
    axes.set_title(title)
    if legend:
        _unique_legend(axes)


def _process_values(mode: Mode, key: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for process in mode.get("processes") or []:
        value = process.get(key)
        if isinstance(value, int | float):
            name = str(process.get("name", "?"))
            values[name] = values.get(name, 0.0) + float(value)
    return values


def _unique_legend(axes: Axes) -> None:
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    axes.legend(
        list(unique.values()), list(unique), fontsize=8, loc="upper left", bbox_to_anchor=(1, 1)
    )


def _jetstream(axes: Axes, baseline: dict[str, Any] | None) -> None:
    keys = {
        "publish_awaited_per_second": "publish\n(awaited)",
        "publish_pipelined_per_second": "publish\n(pipelined)",
        "consume_per_second": "consume",
    }
    title = "Raw JetStream (messages/s)"
    if baseline:
        count, size = baseline.get("messages", "?"), baseline.get("payload_bytes", "?")
        fsync = "fsync always" if baseline.get("fsync") else "page cache"
        title += f"\n{count} messages of {size} B, {fsync}"
    _baseline_bars(axes, baseline, keys, title)


def _gateway(axes: Axes, baseline: dict[str, Any] | None) -> None:
    keys = {
        "direct_p50_ms": "service\ndirect",
        "gateway_p50_ms": "through\ngateway",
        "added_p50_ms": "added by\ngateway",
    }
    _baseline_bars(axes, baseline, keys, "Gateway baseline (p50 ms)")


def _baseline_bars(
    axes: Axes, baseline: dict[str, Any] | None, keys: dict[str, str], title: str
) -> None:
    axes.set_title(title)
    values = [(label, (baseline or {}).get(key)) for key, label in keys.items()]
    shown = [(label, value) for label, value in values if isinstance(value, int | float)]
    if not shown:
        _nothing(axes, "not measured in this run")
        return
    bars = axes.bar([label for label, _ in shown], [v for _, v in shown], color=BASELINE_COLOR)
    axes.bar_label(bars, labels=[_short(v) for _, v in shown], fontsize=9, padding=2)
    axes.margins(y=0.15)


def _summary(axes: Axes, results: dict[str, Any], modes: dict[str, Mode]) -> None:
    axes.axis("off")
    axes.set_title("Run")
    lines = _settings_lines(results)
    for name, mode in modes.items():
        lines += _mode_lines(name, mode)
    text = "\n".join(textwrap.fill(line, 60, subsequent_indent="    ") for line in lines)
    axes.text(0, 1, text, va="top", ha="left", family="monospace", fontsize=8.5)


def _settings_lines(results: dict[str, Any]) -> list[str]:
    settings = results.get("settings") or {}
    machine = results.get("machine") or {}
    concurrencies = ", ".join(str(n) for n in settings.get("concurrencies") or []) or "?"
    lines = [
        f"{concurrencies} in flight, {settings.get('window_seconds', '?')} s windows, "
        f"{settings.get('customers', '?')} customers, seed {settings.get('seed', '?')}",
        f"fsync {'always' if settings.get('fsync') else 'off'}, "
        f"{machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}, "
        f"{machine.get('platform', '?')}",
        f"started {results.get('started_at', '?')}",
    ]
    ratios = results.get("ratios") or {}
    if ratios:
        lines.append(
            "microservices / monolith: " + ", ".join(f"{k} {_short(v)}" for k, v in ratios.items())
        )
    return lines


def _mode_lines(name: str, mode: Mode) -> list[str]:
    outcomes = mode.get("outcomes") or {}
    errors = {kind: count for kind, count in (mode.get("errors") or {}).items() if count}
    invariants = mode.get("invariants") or {}
    held = invariants.get("held")
    verdict = "invariants held" if held else "invariants unchecked"
    if held is False:
        verdict = "INVARIANTS BROKEN: " + "; ".join(invariants.get("problems") or [])[:160]
    return [
        "",
        f"{name}: ready in {_short(mode.get('ready_seconds'))} s, "
        f"idle PSS {_short(mode.get('idle_pss_mb'))} MB",
        "  " + ", ".join(f"{k} {v}" for k, v in outcomes.items()),
        "  errors: " + (", ".join(f"{k} {v}" for k, v in errors.items()) or "none"),
        "  " + verdict,
    ]


def _nothing(axes: Axes, message: str) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    axes.text(0.5, 0.5, message, ha="center", va="center", color="gray", transform=axes.transAxes)


def _mode_color(name: str, index: int) -> str:
    return MODE_COLORS.get(name, OTHER_COLORS[index % len(OTHER_COLORS)])


def _short(value: Any) -> str:
    """A number in as few characters as its size allows: 12345, 123, 12.3, 1.23."""
    if not isinstance(value, int | float):
        return "?"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
