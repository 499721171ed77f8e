"""report.html: the report as a page a hardware engineer can read at a glance — per-layer
table, cycles and utilization per layer, where each NPU layer's cycles go and its place on the
roofline, L2 memory over the schedule — plain HTML and SVG, no scripts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hwgen.resources import report_templates
from hwgen.templating import Flavour, environment

WIDTH = 860
BAR_AREA = 180


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    css: str


def _bars(
    values: list[float | None],
    labels: list[str],
    css: list[str],
    fmt: str,
    top: float | None = None,
) -> list[Bar]:
    present = [v for v in values if v is not None]
    peak = top if top is not None else (max(present) if present else 1.0) or 1.0
    slot = WIDTH / max(len(values), 1)
    bars = []
    for i, (value, label, style) in enumerate(zip(values, labels, css, strict=True)):
        v = value or 0.0
        height = BAR_AREA * v / peak
        bars.append(
            Bar(
                i * slot + slot * 0.15,
                BAR_AREA - height,
                slot * 0.7,
                height,
                label,
                format(v, fmt) if value is not None else "host",
                style,
            )
        )
    return bars


ROOF_HEIGHT = 260


@dataclass(frozen=True)
class Roofline:
    """A log-log chart: MACs per byte on the busier bus channel across, MACs per cycle up."""

    roof: str  # the SVG path of min(peak, intensity * beat bytes)
    points: list[tuple[float, float, str]]  # x, y, the layer and its figures
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]


def _roofline(report: dict[str, Any]) -> Roofline | None:
    layers = [layer for layer in report["layers"] if layer.get("npu")]
    if not layers:
        return None
    config = report["config"]
    peak = config["array"] ** 2
    beat = config["data_width"] // 8
    xs = [max(layer["npu"]["macs_per_byte"], 1e-3) for layer in layers]
    ys = [max(layer["npu"]["macs_per_cycle"], 1e-3) for layer in layers]
    x_lo = 10 ** math.floor(math.log10(min(min(xs), peak / beat / 4)))
    x_hi = 10 ** math.ceil(math.log10(max(max(xs), peak / beat * 4)))
    y_lo = 10 ** math.floor(math.log10(min(ys)))
    y_hi = 10 ** math.ceil(math.log10(peak * 1.5))

    def x_of(v: float) -> float:
        return WIDTH * math.log(v / x_lo) / math.log(x_hi / x_lo)

    def y_of(v: float) -> float:
        return ROOF_HEIGHT * (1 - math.log(v / y_lo) / math.log(y_hi / y_lo))

    ridge = peak / beat
    start = max(x_lo, y_lo / beat)
    roof = (
        f"M{x_of(start):.1f},{y_of(start * beat):.1f} L{x_of(ridge):.1f},{y_of(peak):.1f} "
        f"L{x_of(x_hi):.1f},{y_of(peak):.1f}"
    )
    points = [
        (
            x_of(x),
            y_of(y),
            f"{layer['name']}: {layer['npu']['macs_per_cycle']:.1f} of "
            f"{layer['npu']['bound_macs_per_cycle']:.1f} MAC/cycle, bound by "
            f"{layer['npu']['bound_by']}",
        )
        for layer, x, y in zip(layers, xs, ys, strict=True)
    ]

    def decades(lo: float, hi: float) -> list[float]:
        return [10.0**k for k in range(round(math.log10(lo)), round(math.log10(hi)) + 1)]

    return Roofline(
        roof,
        points,
        [(x_of(v), f"{v:g}") for v in decades(x_lo, x_hi)],
        [(y_of(v), f"{v:g}") for v in decades(y_lo, y_hi)],
    )


def render(report: dict[str, Any]) -> str:
    layers = report["layers"]
    labels = [layer["name"] for layer in layers]
    css = [layer["placement"] for layer in layers]
    cycles = [layer["cycles_rtl"] or layer["cycles_model"] for layer in layers]
    utilization = [layer["utilization"] for layer in layers]
    plan = report["memory"]["l2_plan"]
    steps = len(layers)
    live = [sum(a["size"] for a in plan if a["first"] <= t <= a["last"]) for t in range(steps)]
    env = environment(report_templates(), Flavour.HTML)
    return env.get_template("report.html.j2").render(
        report=report,
        width=WIDTH,
        area=BAR_AREA,
        cycle_bars=_bars([float(c) if c else None for c in cycles], labels, css, ",.0f"),
        utilization_bars=_bars(utilization, labels, css, ".1%", top=1.0),
        memory_bars=_bars([float(v) for v in live], labels, ["memory"] * steps, ",.0f"),
        roofline=_roofline(report),
        roof_height=ROOF_HEIGHT,
    )
