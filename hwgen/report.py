"""report.json: what runs where and why, work and cycles per layer, memory, configuration."""

from __future__ import annotations

import dataclasses
from typing import Any

from hwgen.compiler import Compilation
from hwgen.ir.analysis import macs
from hwgen.npu.config import RequantMode


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
            }
        )
    npu_macs = sum(layer.macs for layer in comp.npu.layers)
    npu_cycles = sum(layer.cycles for layer in comp.npu.layers)
    config = {
        k: (v.value if isinstance(v, RequantMode) else v)
        for k, v in dataclasses.asdict(comp.npu.config).items()
    }
    return {
        "model": graph.name,
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
        },
        "memory": {
            "weights_bytes": comp.npu.weight_bytes,
            "l2_peak_bytes": comp.memory.peak,
            "l1_bytes": comp.options.l1,
            "l2_plan": [dataclasses.asdict(a) for a in comp.memory.allocations],
        },
    }
