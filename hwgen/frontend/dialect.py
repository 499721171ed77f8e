"""Which dialect an ONNX graph speaks: onnxruntime's quantized ops (QOperator / QDQ /
*Integer), Deeploy's integer graphs (RequantShift) or NEMO/DORY's (integer values in float
tensors, requantized by Mul-Add-Div-Floor-Clip)."""

from __future__ import annotations

import enum

import onnx

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
DEEPLOY_OPS = {"RequantShift"}


def _first(nodes: list[onnx.NodeProto], ops: set[str]) -> onnx.NodeProto | None:
    return next((n for n in nodes if n.op_type in ops), None)


def detect(model: onnx.ModelProto) -> Dialect:
    """The dialect of the graph, refusing one that mixes dialects."""
    nodes = list(model.graph.node)
    standard = _first(nodes, ONNXRUNTIME_OPS)
    deeploy = _first(nodes, DEEPLOY_OPS)
    nemo = _first(nodes, {"Floor"})
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
    return Dialect.ONNXRUNTIME
