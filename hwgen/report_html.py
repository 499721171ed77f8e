"""report.html: the report as a page a hardware engineer can read at a glance — per-layer
table, cycles and utilization per layer, L2 memory over the schedule — plain HTML and SVG,
no scripts."""

from __future__ import annotations

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
    )
