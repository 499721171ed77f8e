"""The graph as onnxruntime runs it, read from onnxruntime's own optimized graph rather than
imitated: which nodes it runs in float, and which Resize nodes it runs channels-last.

onnxruntime's layout optimizer moves an 8-bit linear Resize that follows a QLinearConv (or
other channels-last op) to NHWC, where another kernel computes it: integer weights in 2^-10
steps instead of float32 ones, and results an LSB apart. And it fuses some DQ -> op -> Q
groups of a QDQ graph into integer ops while it leaves others in float between DQ and Q.
Both depend on the graph around each node."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from hwgen.frontend.model import node_label
from hwgen.frontend.validate import decoded_constants

_PREFIX = "hwgen.node."
FLOAT = onnx.TensorProto.FLOAT
_QUANTIZERS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"}
NCHW_TO_NHWC = (0, 2, 3, 1)


def channels_last_resizes(model: onnx.ModelProto) -> set[str]:
    """Names of the model's linear Resize nodes onnxruntime runs on NHWC data."""
    linear = [
        i
        for i, n in enumerate(model.graph.node)
        if n.op_type in ("Resize", "Upsample") and _mode(n) == "linear"
    ]
    if not linear:
        return set()
    optimized = onnxruntime_optimized(model)
    if optimized is None:
        return set()
    constants = decoded_constants(optimized)
    original_constants = decoded_constants(model)
    found = set()
    for node in optimized.graph.node:
        if node.op_type != "Resize" or not node.name.startswith(_PREFIX):
            continue
        index = int(node.name[len(_PREFIX) :])
        if index in linear and _moved(model.graph.node[index], node, original_constants, constants):
            found.add(node_label(model.graph.node[index], index))
    return found


def _mode(node: onnx.NodeProto) -> str:
    for a in node.attribute:
        if a.name == "mode":
            return str(a.s.decode())
    return "nearest"


def float_nodes(model: onnx.ModelProto) -> set[str]:
    """Names of the model's nodes onnxruntime computes in float: those its optimizer left
    reading a DequantizeLinear's float output, or another such node's."""
    optimized = onnxruntime_optimized(model)
    if optimized is None:
        return set()
    floats = {i.name for i in optimized.graph.input if i.type.tensor_type.elem_type == FLOAT}
    found = set()
    for node in optimized.graph.node:
        if node.op_type in _QUANTIZERS:
            if node.op_type == "DequantizeLinear":
                floats.update(node.output)
            continue
        if any(name in floats for name in node.input):
            floats.update(node.output)
            if node.name.startswith(_PREFIX):
                index = int(node.name[len(_PREFIX) :])
                found.add(node_label(model.graph.node[index], index))
    return found


def onnxruntime_optimized(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """The model as onnxruntime runs it, its nodes named by their index in `model`; None where
    onnxruntime cannot load it (then it runs nothing hwgen could disagree with)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for i, node in enumerate(copy.graph.node):
        node.name = f"{_PREFIX}{i}"
    with tempfile.TemporaryDirectory(prefix="hwgen-ort-") as tmp:
        path = Path(tmp) / "optimized.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(path)
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        try:
            ort.InferenceSession(
                copy.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        except Exception:  # any refusal: there is no optimized graph to read
            return None
        return onnx.load(str(path))


def _moved(
    before: onnx.NodeProto,
    after: onnx.NodeProto,
    before_constants: dict[str, np.ndarray],
    after_constants: dict[str, np.ndarray],
) -> bool:
    """Whether the optimizer permuted the node's scales (or sizes) from NCHW to NHWC order.
    Where both orders read the same, the optimizer's renaming of the output tells."""
    for index in (2, 3, 1):  # scales, sizes; Resize-10's scales
        if index >= len(before.input) or index >= len(after.input):
            continue
        old = before_constants.get(before.input[index])
        new = after_constants.get(after.input[index])
        if old is None or new is None or old.size != 4 or new.size != 4:
            continue
        old, new = old.reshape(-1), new.reshape(-1)
        permuted = old[list(NCHW_TO_NHWC)]
        if not np.array_equal(old, permuted):
            return bool(np.array_equal(new, permuted))
    return list(before.output) != list(after.output)
