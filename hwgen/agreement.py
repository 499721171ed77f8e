"""The golden model against onnxruntime layer by layer: each integer op run on onnxruntime's
own values of its inputs, its output compared with onnxruntime's, in LSB of the stored integer.

At the network's output a QDQ graph can differ by more than an LSB even where every layer is
within one: onnxruntime runs some DQ -> op -> Q groups unfused in float, and one LSB at a layer
of coarse scale grows through the next. Layer by layer, nothing propagates: this is the bound
DESIGN.md states for QDQ graphs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper

from hwgen.backends.golden import KERNELS
from hwgen.ir import Graph
from hwgen.oracle import onnxruntime_outputs


@dataclass(frozen=True)
class LayerAgreement:
    node: str
    op: str
    exact: int  # elements equal to onnxruntime's
    total: int
    worst: int  # the largest difference, in LSB

    @property
    def fraction_exact(self) -> float:
        return self.exact / self.total if self.total else 1.0


def layer_agreement(
    model: onnx.ModelProto, graph: Graph, inputs: Mapping[str, npt.ArrayLike]
) -> list[LayerAgreement]:
    """For every integer op of `graph` (lowered from `model`) whose inputs and output
    onnxruntime computes under the same names."""
    produced = {name for node in model.graph.node for name in node.output}
    wanted = [
        name
        for node in graph.nodes
        for name in node.outputs
        if name in produced and graph.type_of(name).dtype.is_integer
    ]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    declared = {o.name for o in probe.graph.output}
    for name in wanted:
        if name not in declared:
            elem = helper.np_dtype_to_tensor_dtype(graph.type_of(name).dtype.numpy)
            probe.graph.output.append(helper.make_tensor_value_info(name, elem, None))
    values: dict[str, npt.NDArray[np.generic]] = {**graph.constants}
    values.update({k: np.asarray(v) for k, v in inputs.items()})
    values.update(onnxruntime_outputs(probe, inputs))
    found = []
    for node in graph.nodes:
        out = node.outputs[0]
        if out not in wanted or any(name not in values for name in node.inputs):
            continue
        args = [values[name] for name in node.inputs]
        types = [graph.type_of(name) for name in node.inputs]
        got = np.asarray(KERNELS[node.op](node, args, types, graph.type_of(out)), np.int64)
        diff = np.abs(got - values[out].astype(np.int64))
        found.append(
            LayerAgreement(
                node.name, node.op.value, int((diff == 0).sum()), diff.size, int(diff.max())
            )
        )
    return found
