"""report.json: what runs where and why, work and cycles per layer, memory, configuration."""

from __future__ import annotations

import dataclasses
from typing import Any

from hwgen.compiler import Compilation
from hwgen.ir.analysis import macs
from hwgen.npu.config import NpuConfig
from hwgen.passes.npu_plan import NpuLayerPlan


def roofline(plan: NpuLayerPlan, config: NpuConfig) -> dict[str, Any]:
    """Where the layer sits on the NPU's roofline. Loads and stores have AXI channels of their
    own, each a beat per cycle, so the layer's traffic bound is its busier channel's bytes at
    one beat per cycle; its bound is that or the array's M^2 MACs per cycle, the lower."""
    profile = plan.profile
    busier = max(profile.read_bytes, profile.written_bytes, 1)
    intensity = plan.macs / busier
    peak = config.peak_macs_per_cycle
    bus_bound = intensity * config.beat_bytes
    return {
        "tiling": plan.tiling.describe(),
        **profile.as_dict(),
        "macs_per_byte": round(intensity, 4),
        "macs_per_cycle": round(plan.macs / profile.cycles, 4),
        "bound_macs_per_cycle": round(min(peak, bus_bound), 4),
        "bound_by": "array" if peak <= bus_bound else "bus",
    }


def report(comp: Compilation) -> dict[str, Any]:
    assert comp.npu is not None and comp.memory is not None
    graph = comp.graph
    m = comp.options.array
    planned = {layer.node: layer for layer in comp.npu.layers}
    layers = []
    for node in graph.nodes:
        plan = planned.get(node.name)
        layers.append(
            {
                "name": node.name,
                "op": node.op.value,
                "onnx_nodes": list(node.origin),
                "placement": node.target.value,
                "reason": node.reason,
                "macs": macs(graph, node),
                "cycles_model": plan.cycles if plan else None,
                "cycles_rtl": None,
                "utilization": round(plan.utilization, 6) if plan else None,
                "npu": roofline(plan, comp.npu.config) if plan else None,
            }
        )
    npu_macs = sum(layer.macs for layer in comp.npu.layers)
    npu_cycles = sum(layer.cycles for layer in comp.npu.layers)
    profiles = [layer.profile for layer in comp.npu.layers]
    config = comp.npu.config.as_dict()
    return {
        "model": graph.name,
        "options": comp.options.as_dict(),
        "config": config,
        "passes": comp.steps,
        "layers": layers,
        "totals": {
            "macs": sum(entry["macs"] for entry in layers),
            "npu_macs": npu_macs,
            "npu_cycles_model": npu_cycles,
            "npu_utilization_model": round(npu_macs / (npu_cycles * m * m), 6)
            if npu_cycles
            else None,
            "npu_compute_cycles": sum(p.compute for p in profiles),
            "npu_exposed_cycles": sum(p.exposed for p in profiles),
            "npu_read_bytes": sum(p.read_bytes for p in profiles),
            "npu_written_bytes": sum(p.written_bytes for p in profiles),
            # Filled in by a co-simulation (hwgen demo, hwgen sim).
            "npu_cycles_rtl": None,
            "npu_utilization_rtl": None,
        },
        "memory": {
            "weights_bytes": comp.npu.weight_bytes,
            "l2_peak_bytes": comp.memory.peak,
            "l1_bytes": comp.options.l1,
            "l2_plan": [dataclasses.asdict(a) for a in comp.memory.allocations],
        },
    }


def with_rtl_cycles(summary: dict[str, Any], layer_cycles: dict[str, int]) -> dict[str, Any]:
    """The report with the cycles the RTL counted for each NPU layer (from a co-simulation)."""
    m = summary["config"]["array"]
    for layer in summary["layers"]:
        if layer["name"] in layer_cycles:
            layer["cycles_rtl"] = layer_cycles[layer["name"]]
            layer["utilization"] = round(layer["macs"] / (layer["cycles_rtl"] * m * m), 6)
    total = sum(layer_cycles.values())
    totals = summary["totals"]
    totals["npu_cycles_rtl"] = total
    totals["npu_utilization_rtl"] = (
        round(totals["npu_macs"] / (total * m * m), 6) if total else None
    )
    return summary
