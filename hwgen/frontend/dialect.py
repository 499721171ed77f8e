"""Which dialect an ONNX graph speaks: onnxruntime's quantized ops (QOperator / QDQ /
*Integer), Deeploy's integer graphs (RequantShift) or NEMO/DORY's (integer values in float
tensors, requantized by Mul-Add-Div-Floor-Clip)."""

from __future__ import annotations

import enum

import numpy as np
import onnx
from onnx import numpy_helper

from hwgen.errors import ModelError


class Dialect(enum.Enum):
    ONNXRUNTIME = "onnxruntime"
    DEEPLOY = "deeploy"
    NEMO = "nemo"


ONNXRUNTIME_OPS = {
    "QuantizeLinear",
    "DequantizeLinear",
    "QLinearConv",
    "QLinearMatMul",
    "QGemm",
    "QLinearAdd",
    "QLinearAveragePool",
    "QLinearGlobalAveragePool",
    "QLinearConcat",
    "MatMulInteger",
    "ConvInteger",
}
# Deeploy's own integer ops (its ONNX-level layers), any of which makes a graph Deeploy's.
DEEPLOY_OPS = {
    "RequantShift",
    "iSoftmax",
    "iGELU",
    "iLayerNorm",
    "ITAMax",
    "ITAPartialMax",
    "IntegerDiv",
    "RQIntegerDiv",
    "iRMSNorm",
    "iHardswish",
    "RQSiGELU",
    "RQGEMM",
    "RQMatMul",
}
# NEMO requantizes by a Div by a power of two, then a Floor or a Cast to an integer type.
NEMO_OPS = {"Floor", "Div"}
# The standard ops an integer graph without requantization is made of (Deeploy's single-kernel
# graphs): float containers of integer values.
INTEGER_GRAPH_OPS = {
    "Add",
    "Conv",
    "Gemm",
    "MatMul",
    "MaxPool",
    "Pad",
    "Concat",
    "Slice",
    "ReduceMean",
    "ReduceSum",
    "Flatten",
    "Reshape",
    "Transpose",
    "Constant",
}


def _first(nodes: list[onnx.NodeProto], ops: set[str]) -> onnx.NodeProto | None:
    return next((n for n in nodes if n.op_type in ops), None)


# The ops that only one dialect's graphs hold.
_OWN_OPS = (
    (Dialect.ONNXRUNTIME, "onnxruntime", ONNXRUNTIME_OPS),
    (Dialect.DEEPLOY, "Deeploy", DEEPLOY_OPS),
    (Dialect.NEMO, "NEMO", NEMO_OPS),
)


def confirm(model: onnx.ModelProto, dialect: Dialect) -> None:
    """Refuse a dialect given with --dialect that the graph's own ops contradict."""
    nodes = list(model.graph.node)
    for other, name, ops in _OWN_OPS:
        node = _first(nodes, ops)
        if other is not dialect and node is not None:
            raise ModelError(
                f"--dialect {dialect.value}: '{node.name or node.op_type}' ({node.op_type}) is "
                f"{name}'s; leave --dialect out to read the graph as {name}'s",
            )


def detect(model: onnx.ModelProto) -> Dialect:
    """The dialect of the graph, refusing one that mixes dialects."""
    nodes = list(model.graph.node)
    standard, deeploy, nemo = (_first(nodes, ops) for _, _, ops in _OWN_OPS)
    found = [
        (name, node)
        for name, node in (("onnxruntime", standard), ("Deeploy", deeploy), ("NEMO", nemo))
        if node is not None
    ]
    if len(found) > 1:
        (first, a), (second, b) = found[0], found[1]
        raise ModelError(
            f"the graph mixes dialects: '{a.name or a.op_type}' ({a.op_type}) is {first}, "
            f"'{b.name or b.op_type}' ({b.op_type}) is {second}",
            node=b.name or None,
            op=b.op_type,
        )
    if deeploy is not None:
        return Dialect.DEEPLOY
    if nemo is not None:
        return Dialect.NEMO
    if standard is None and _integer_graph(model):
        return Dialect.DEEPLOY
    return Dialect.ONNXRUNTIME


def _integer_graph(model: onnx.ModelProto) -> bool:
    """No quantized op, yet an integer graph: only the ops integer graphs are made of, and
    every float constant an integer (a float network's weights never all are)."""
    if any(n.op_type not in INTEGER_GRAPH_OPS for n in model.graph.node):
        return False
    constants = [numpy_helper.to_array(t) for t in model.graph.initializer]
    for node in model.graph.node:
        constants += [numpy_helper.to_array(a.t) for a in node.attribute if a.type == a.TENSOR]
    return all(bool(np.all(np.rint(c) == c)) for c in constants if c.dtype.kind == "f")
