"""The golden model against onnxruntime layer by layer: each integer op run on onnxruntime's
own values of its inputs, its output compared with onnxruntime's, in LSB of the stored integer.

At the network's output a QDQ graph can differ by more than an LSB even where every layer is
within one: onnxruntime runs some DQ -> op -> Q groups unfused in float, and one LSB at a layer
of coarse scale grows through the next. Layer by layer, nothing propagates: this is the bound
DESIGN.md states for QDQ graphs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper

from hwgen.backends.golden import KERNELS
from hwgen.frontend import Dialect, lower_or_raise
from hwgen.frontend.dialect import detect
from hwgen.frontend.ort_graph import float_nodes
from hwgen.ir import Graph, OpKind
from hwgen.ir.types import DType
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


def probe_inputs(graph: Graph, seed: int = 0) -> dict[str, npt.NDArray[np.generic]]:
    """Seeded inputs over each input's whole quantized range: a float input at the values its
    QuantizeLinear can tell apart, an integer input at every value of its type."""
    rng = np.random.default_rng(seed)
    quantizers = {
        node.inputs[0]: graph.type_of(node.outputs[0])
        for node in graph.nodes
        if node.op is OpKind.QUANTIZE
    }
    inputs = {}
    for name in graph.inputs:
        qtype = graph.type_of(name)
        target = quantizers.get(name, qtype)
        if not target.dtype.is_integer or target.dtype.numpy.itemsize > 1:
            inputs[name] = rng.uniform(-1, 1, qtype.shape).astype(qtype.dtype.numpy)
            continue
        stored = rng.integers(target.dtype.qmin, target.dtype.qmax + 1, qtype.shape)
        if qtype.dtype.is_integer:
            inputs[name] = stored.astype(qtype.dtype.numpy)
        elif target.quant is not None and target.quant.scale.size == 1:
            zp, scale = int(target.quant.zero_point[0]), np.float32(target.quant.scale[0])
            inputs[name] = ((stored - zp) * scale).astype(np.float32)
        else:
            inputs[name] = rng.uniform(-1, 1, qtype.shape).astype(np.float32)
    return inputs


def float_runs(
    model: onnx.ModelProto, graph: Graph, floats: set[str], seed: int = 0
) -> list[dict[str, Any]]:
    """For each layer of `graph` standing for nodes onnxruntime runs in float (`floats`, by
    ONNX name): those nodes and the layer's agreement with onnxruntime on probe inputs. A layer
    hwgen computes in float32 itself (no integer output) has no LSB to count."""
    standing = [node for node in graph.nodes if floats.intersection(node.origin)]
    if not standing:
        return []
    compared = {a.node: a for a in layer_agreement(model, graph, probe_inputs(graph, seed))}
    runs = []
    for node in standing:
        agreement = compared.get(node.name)
        runs.append(
            {
                "layer": node.name,
                "op": node.op.value,
                "onnx_nodes": [name for name in node.origin if name in floats],
                "exact": agreement.exact if agreement else None,
                "total": agreement.total if agreement else None,
                "worst_lsb": agreement.worst if agreement else None,
            }
        )
    return runs


PROBE_SEED = 0


def float_report(
    model: onnx.ModelProto,
    dialect: Dialect | None = None,
    input_types: Mapping[str, DType] | None = None,
) -> dict[str, Any] | None:
    """The report's account of the nodes onnxruntime computes in float between DQ and Q;
    None for the integer dialects, which onnxruntime computes in float throughout."""
    dialect = dialect or detect(model)
    if dialect is not Dialect.ONNXRUNTIME:
        return None
    floats = float_nodes(model)
    runs = float_runs(model, lower_or_raise(model, dialect, input_types), floats) if floats else []
    return {
        "probe": f"random inputs over each input's quantized range, seed {PROBE_SEED}",
        "layers": runs,
    }
