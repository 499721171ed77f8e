"""QDQ graphs: fold DequantizeLinear -> op -> QuantizeLinear groups into the QOperator ops that
carry the same fused integer semantics (QLinearConv, QGemm, QLinearMatMul, QLinearAdd, ...).

The fused result is the golden definition for QDQ graphs. onnxruntime fuses some groups itself
and runs others in float, so its output can differ by one LSB where it does not fuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from hwgen.frontend.model import OnnxView
from hwgen.frontend.registry import HWGEN_DOMAIN, MS_DOMAIN
from hwgen.frontend.tables import onnxruntime_table
from hwgen.ir.types import DType
from hwgen.sim_models.quant import quantize_linear

# Element-wise functions that onnxruntime runs in float between a DQ and a Q (or fuses to a
# lookup table): each group folds to a table of its 256 input values, computed by onnxruntime.
_UNARY = frozenset(
    {
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "LeakyRelu",
        "Elu",
        "Selu",
        "Celu",
        "Softplus",
        "Softsign",
        "Erf",
        "Gelu",
        "Mish",
        "Exp",
        "Log",
        "Sqrt",
        "Reciprocal",
        "Neg",
        "Abs",
        "ThresholdedRelu",
        "Shrink",
    }
)

# Which inputs of each foldable op are quantized data (the rest are constants such as shapes).
_DATA_INPUTS: dict[str, tuple[int, ...]] = {
    "Conv": (0, 1, 2),
    "Gemm": (0, 1, 2),
    "MatMul": (0, 1),
    "Add": (0, 1),
    "Mul": (0, 1),
    "Softmax": (0,),
    "AveragePool": (0,),
    "GlobalAveragePool": (0,),
    "MaxPool": (0,),
    "Relu": (0,),
    "Clip": (0,),
    "Reshape": (0,),
    "Flatten": (0,),
    "Transpose": (0,),
    "Squeeze": (0,),
    "Unsqueeze": (0,),
    "Pad": (0,),
    "Concat": (),  # every input
    "ReduceMean": (0,),
    "Resize": (0,),
    **{op: (0,) for op in sorted(_UNARY)},
}

# Ops that only move or select stored values: they fold when input and output quantization agree.
_SAME_QUANT = {
    "MaxPool",
    "Relu",
    "Clip",
    "Reshape",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Pad",
    "Concat",
    "Resize",
}


@dataclass
class QdqFolding:
    """The rewritten model, which original nodes each new node stands for, and why groups that
    look like QDQ groups were left unfolded."""

    model: onnx.ModelProto
    origins: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass
class _Group:
    op: onnx.NodeProto
    dqs: list[onnx.NodeProto | None]  # per data input (None for an absent optional input)
    q: onnx.NodeProto
    table: npt.NDArray[np.int32] | None = None  # an element-wise function's, per input value


class _NotFoldable(Exception):
    pass


def fold_qdq(view: OnnxView) -> QdqFolding:
    groups: dict[str, _Group] = {}
    reasons: dict[str, str] = {}
    for node in view.nodes:
        if node.domain not in ("", "ai.onnx") or node.op_type not in _DATA_INPUTS:
            continue
        try:
            group = _match(view, node)
        except _NotFoldable as why:
            reasons[node.name] = str(why)
            continue
        if group is not None:
            groups[node.name] = group

    graph_outputs = set(view.outputs)
    absorbed: dict[str, str] = {}  # DQ / Q node name -> name of the group it folds into
    for group in groups.values():
        absorbed[group.q.name] = group.op.name
        for dq in group.dqs:
            if dq is not None:
                absorbed.setdefault(dq.name, group.op.name)
    # A DequantizeLinear stays when anything outside the folded groups still reads it.
    by_name = {n.name: n for n in view.nodes}
    for name in list(absorbed):
        dq = by_name[name]
        if dq.op_type != "DequantizeLinear":
            continue
        readers = view.consumers.get(dq.output[0], [])
        if dq.output[0] in graph_outputs or any(r.name not in groups for r in readers):
            del absorbed[name]

    model = onnx.ModelProto()
    model.CopyFrom(view.model)
    folding = QdqFolding(model, reasons=reasons)
    new_nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = []
    for node in view.graph.node:
        if node.name in groups:
            replacement = _rewrite(view, groups[node.name], extra)
            new_nodes.append(replacement)
            folding.origins[replacement.name] = [node.name] + [
                n for n, owner in absorbed.items() if owner == node.name
            ]
        elif node.name not in absorbed:
            new_nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    model.graph.initializer.extend(extra)
    return folding


def _match(view: OnnxView, node: onnx.NodeProto) -> _Group | None:
    if node.op_type == "Resize" and _attr(node, "mode", b"nearest") != b"nearest":
        # onnxruntime drops the DQ/Q pair around a nearest Resize only: it interpolates in
        # float between them, and so does hwgen.
        return None
    indices = _DATA_INPUTS[node.op_type] or tuple(range(len(node.input)))
    dqs: list[onnx.NodeProto | None] = []
    for i in indices:
        if i >= len(node.input) or not node.input[i]:
            dqs.append(None)
            continue
        producer = view.producer.get(node.input[i])
        if producer is None or producer.op_type != "DequantizeLinear":
            return None
        dqs.append(producer)
    if all(dq is None for dq in dqs):
        return None
    readers = view.consumers.get(node.output[0], [])
    if (
        len(readers) != 1
        or readers[0].op_type != "QuantizeLinear"
        or node.output[0] in view.outputs
    ):
        raise _NotFoldable(
            f"its output is read by {len(readers)} node(s) instead of one QuantizeLinear, so "
            "there is no quantized result to fold to"
        )
    q = readers[0]
    for dq in dqs:
        if dq is not None and (len(dq.input) < 3 or not dq.input[2]):
            raise _NotFoldable(f"'{dq.name}' has no zero point input")
    if len(q.input) < 3 or not q.input[2]:
        raise _NotFoldable(f"'{q.name}' has no zero point input")
    for index, dq in zip(indices, dqs, strict=True):
        if dq is not None:
            _check_channel_axis(view, node, index, dq)
    if node.op_type in _SAME_QUANT:
        for dq in dqs:
            if dq is not None and not _same_params(view, dq, q):
                raise _NotFoldable(
                    f"{node.op_type} between '{dq.name}' and '{q.name}' changes the scale or zero "
                    "point; hwgen folds it only where they agree"
                )
    axes = node.input[1] if node.op_type == "ReduceMean" and len(node.input) > 1 else ""
    if axes and axes not in view.constants:
        raise _NotFoldable("ReduceMean's axes must be a constant")
    if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
        beta = _attr(node, "beta", 1.0)
        if beta != 1.0:
            raise _NotFoldable(f"Gemm with beta={beta} and a bias is not supported")
    table = _table(view, dqs[0], node, q) if node.op_type in _UNARY else None
    return _Group(node, dqs, q, table)


def _table(
    view: OnnxView, dq: onnx.NodeProto | None, op: onnx.NodeProto, q: onnx.NodeProto
) -> npt.NDArray[np.int32]:
    assert dq is not None
    params = [dq.input[1], dq.input[2], q.input[1], q.input[2]]
    if any(p not in view.constants or view.constants[p].size != 1 for p in params):
        raise _NotFoldable("a table needs constant scales and zero points, one per tensor")
    x, y = (view.constants[z].dtype for z in (dq.input[2], q.input[2]))
    if x.name not in ("int8", "uint8") or y.name not in ("int8", "uint8"):
        raise _NotFoldable(f"a table maps 8-bit values, not {x} to {y}")
    try:
        return onnxruntime_table(
            [dq, op, q],
            dq.input[0],
            q.output[0],
            view.constants,
            DType.from_numpy(x),
            DType.from_numpy(y),
            list(view.model.opset_import),
        )
    except Exception as exc:
        raise _NotFoldable(f"onnxruntime does not run the group alone ({exc})") from None


def _channel_axis(node: onnx.NodeProto, index: int, ndim: int) -> int | None:
    """The axis of an op's input along which the folded op takes one scale per channel: the
    output channels of weights and biases; activations have none."""
    if node.op_type == "Conv" and index in (1, 2):
        return 0
    if node.op_type == "Gemm" and index == 1:
        return 0 if _attr(node, "transB", 0) else 1
    if node.op_type == "Gemm" and index == 2:
        return ndim - 1
    if node.op_type == "MatMul" and index == 1:
        return ndim - 1
    return None


def _check_channel_axis(
    view: OnnxView, node: onnx.NodeProto, index: int, dq: onnx.NodeProto
) -> None:
    scale = view.constants.get(dq.input[1]) if len(dq.input) > 1 else None
    value = view.constants.get(dq.input[0])
    if scale is None or scale.size == 1:
        return
    ndim = value.ndim if value is not None else 0
    axis = int(_attr(dq, "axis", 1))  # type: ignore[call-overload]
    axis = axis + ndim if axis < 0 else axis
    want = _channel_axis(node, index, ndim)
    if want is None or axis != want or value is None or value.shape[axis] != scale.size:
        raise _NotFoldable(
            f"'{dq.name}' has {scale.size} scales along axis {axis}: hwgen folds per-channel "
            "quantization of weights along their output channels only"
        )


def _attr(node: onnx.NodeProto, name: str, default: object) -> object:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _same_params(view: OnnxView, dq: onnx.NodeProto, q: onnx.NodeProto) -> bool:
    for a, b in ((dq.input[1], q.input[1]), (dq.input[2], q.input[2])):
        if a == b:
            continue
        va, vb = view.constants.get(a), view.constants.get(b)
        if va is None or vb is None or va.dtype != vb.dtype or not np.array_equal(va, vb):
            return False
    return True


def _triple(dq: onnx.NodeProto) -> list[str]:
    return [dq.input[0], dq.input[1], dq.input[2]]


def _rewrite(view: OnnxView, group: _Group, extra: list[onnx.TensorProto]) -> onnx.NodeProto:
    op, q, dqs = group.op, group.q, group.dqs
    out = [q.output[0]]
    y = [q.input[1], q.input[2]]
    attrs = {a.name: helper.get_attribute_value(a) for a in op.attribute}
    kind = op.op_type
    name = op.name
    if kind == "Conv":
        x, w, b = dqs
        assert x is not None and w is not None
        inputs = _triple(x) + _triple(w) + y + ([b.input[0]] if b is not None else [])
        return helper.make_node("QLinearConv", inputs, out, name=name, **attrs)
    if kind == "Gemm":
        a, bm, c = dqs
        assert a is not None and bm is not None
        attrs.pop("beta", None)
        inputs = _triple(a) + _triple(bm) + [c.input[0] if c is not None else ""] + y
        return helper.make_node("QGemm", inputs, out, name=name, domain=MS_DOMAIN, **attrs)
    if kind == "MatMul":
        a, bm = dqs
        assert a is not None and bm is not None
        return helper.make_node("QLinearMatMul", _triple(a) + _triple(bm) + y, out, name=name)
    if kind == "Add":
        a, bm = dqs
        assert a is not None and bm is not None
        inputs = _triple(a) + _triple(bm) + y
        return helper.make_node("QLinearAdd", inputs, out, name=name, domain=MS_DOMAIN)
    if kind == "Softmax":
        (x,) = dqs
        assert x is not None
        opset = next(
            (o.version for o in view.model.opset_import if o.domain in ("", "ai.onnx")), 13
        )
        axis = int(attrs.get("axis", -1 if opset >= 13 else 1))
        return helper.make_node(
            "QLinearSoftmax",
            _triple(x) + y,
            out,
            name=name,
            domain=MS_DOMAIN,
            axis=axis,
            opset=opset,
        )
    if kind == "Mul":
        a, bm = dqs
        assert a is not None and bm is not None
        inputs = _triple(a) + _triple(bm) + y
        return helper.make_node("QLinearMul", inputs, out, name=name, domain=MS_DOMAIN)
    if kind in ("AveragePool", "GlobalAveragePool"):
        (x,) = dqs
        assert x is not None
        return helper.make_node(
            f"QLinear{kind}", _triple(x) + y, out, name=name, domain=MS_DOMAIN, **attrs
        )
    if kind == "ReduceMean":
        # onnxruntime runs it in float between its DQ and Q; hwgen takes the mean in integers,
        # as com.microsoft QLinearGlobalAveragePool does.
        (x,) = dqs
        assert x is not None
        axes = attrs.pop("axes", None)
        if axes is None and len(op.input) > 1 and op.input[1]:  # constant: _match saw to it
            axes = [int(a) for a in view.constants[op.input[1]].reshape(-1)]
        if axes is not None:
            attrs["axes"] = list(axes)
        inputs = _triple(x) + y
        return helper.make_node(
            "QLinearReduceMean", inputs, out, name=name, domain=HWGEN_DOMAIN, **attrs
        )
    if group.table is not None:
        (x,) = dqs
        assert x is not None
        table = [int(v) for v in group.table]
        return helper.make_node(
            "Lookup", _triple(x) + y, out, name=name, domain=HWGEN_DOMAIN, table=table
        )
    # Same quantization in and out: the op itself, applied to the stored integers.
    inputs = list(op.input)
    for i, dq in zip(_DATA_INPUTS[kind] or range(len(op.input)), dqs, strict=False):
        if dq is not None:
            inputs[i] = dq.input[0]
    if kind in ("Relu", "Clip", "Pad"):
        inputs = _quantized_bounds(view, group, inputs, extra)
        kind = "Clip" if kind == "Relu" else kind
    return helper.make_node(kind, inputs, out, name=name, **attrs)


def _quantized_bounds(
    view: OnnxView, group: _Group, inputs: list[str], extra: list[onnx.TensorProto]
) -> list[str]:
    """Real-valued bounds (Relu's 0, Clip's min/max, Pad's value) become stored integers,
    quantized with the group's output parameters: Q(f(DQ(x))) = f'(x) when scales agree."""
    q = group.q
    scale = view.constants[q.input[1]]
    zp = view.constants[q.input[2]]

    def quantized(value: float, tag: str) -> str:
        tensor = quantize_linear(np.float32(value), scale, zp, zp.dtype)
        name = f"{group.op.name}_{tag}_q"
        extra.append(numpy_helper.from_array(np.asarray(tensor, zp.dtype).reshape(()), name))
        return name

    kind = group.op.op_type
    if kind == "Relu":
        return [inputs[0], quantized(0.0, "min")]
    if kind == "Clip":
        result = [inputs[0]]
        for index, tag in ((1, "min"), (2, "max")):
            bound = inputs[index] if index < len(inputs) else ""
            result.append(quantized(float(view.constants[bound]), tag) if bound else "")
        return result
    # Pad
    padded = list(inputs) + [""] * (3 - len(inputs))
    value = float(view.constants[padded[2]]) if padded[2] else 0.0
    padded[2] = quantized(value, "value")
    return padded
