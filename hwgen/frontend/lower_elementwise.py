"""Element-wise ops: com.microsoft QLinearAdd, and Relu / Clip on integer tensors."""

from __future__ import annotations

import numpy as np

from hwgen.frontend.context import LoweringContext
from hwgen.frontend.registry import MS_DOMAIN, lowers
from hwgen.ir import ClampAttrs, DType, MulAttrs, NoAttrs, OpKind, QType, SoftmaxAttrs
from hwgen.sim_models import elementwise

_QUANTIZED = (DType.INT8, DType.UINT8)


@lowers("QLinearAdd", MS_DOMAIN)
def qlinear_add(ctx: LoweringContext) -> None:
    a, at = ctx.tensor(0, "A")
    b, bt = ctx.tensor(3, "B")
    if at.dtype not in _QUANTIZED or bt.dtype is not at.dtype:
        raise ctx.unsupported(
            f"inputs must share int8 or uint8, got {at.dtype.value}, {bt.dtype.value}"
        )
    for name, qt, s, z in ((a, at, 1, 2), (b, bt, 4, 5)):
        quant = ctx.quant_of(s, z, qt.dtype)
        if quant.per_channel:
            raise ctx.unsupported("QLinearAdd takes per-tensor scales only")
        ctx.bind_quant(name, quant)
    yq = ctx.quant_of(6, 7, at.dtype)
    try:
        shape = tuple(int(d) for d in np.broadcast_shapes(at.shape, bt.shape))
    except ValueError:
        raise ctx.unsupported(
            f"shapes {list(at.shape)} and {list(bt.shape)} do not broadcast"
        ) from None
    ctx.emit(OpKind.ADD, [a, b], NoAttrs(), [(ctx.output(), QType(at.dtype, shape, yq))])


@lowers("QLinearMul", MS_DOMAIN)
def qlinear_mul(ctx: LoweringContext) -> None:
    a, at = ctx.tensor(0, "A")
    b, bt = ctx.tensor(3, "B")
    if at.dtype not in _QUANTIZED or bt.dtype is not at.dtype:
        raise ctx.unsupported(
            f"operands must be int8 or uint8 alike, got {at.dtype.value} and {bt.dtype.value}"
        )
    quants = [ctx.quant_of(s, z, at.dtype) for s, z in ((1, 2), (4, 5), (6, 7))]
    if any(q.per_channel for q in quants):
        raise ctx.unsupported("QLinearMul takes one scale per tensor")
    aq, bq, yq = quants
    ctx.bind_quant(a, aq)
    ctx.bind_quant(b, bq)
    try:
        shape = tuple(np.broadcast_shapes(at.shape, bt.shape))
    except ValueError:
        raise ctx.unsupported(
            f"shapes {list(at.shape)} and {list(bt.shape)} do not broadcast"
        ) from None
    # C++ evaluates ScaleA * ScaleB / ScaleC left to right, in float.
    ratio = np.float32(np.float32(aq.scale[0] * bq.scale[0]) / yq.scale[0])
    attrs = MulAttrs(
        float(ratio), int(aq.zero_point[0]), int(bq.zero_point[0]), int(yq.zero_point[0])
    )
    ctx.emit(OpKind.MUL, [a, b], attrs, [(ctx.output(), QType(at.dtype, shape, yq))])


@lowers("QLinearSoftmax", MS_DOMAIN)
def qlinear_softmax(ctx: LoweringContext) -> None:
    """Over the last axis (the kernel's axis before opset 13 flattens the axes from it: the
    same only for the last)."""
    x, xt = ctx.tensor(0, "X")
    if xt.dtype not in _QUANTIZED:
        raise ctx.unsupported(f"input must be int8 or uint8, got {xt.dtype.value}")
    rank = len(xt.shape)
    opset = int(ctx.attr("opset", 13))
    axis = int(ctx.attr("axis", -1 if opset >= 13 else 1))
    if axis % rank != rank - 1:
        raise ctx.unsupported(f"softmax over axis {axis} of a rank-{rank} tensor: the last only")
    xq = ctx.quant_of(1, 2, xt.dtype)
    yq = ctx.quant_of(3, 4, xt.dtype)
    if xq.per_channel or yq.per_channel:
        raise ctx.unsupported("QLinearSoftmax takes one scale per tensor")
    ctx.bind_quant(x, xq)
    table = elementwise.softmax_table(float(xq.scale[0]), xt.shape[-1], xt.dtype is DType.INT8)
    scale = float(np.floor(np.float32(1.0) / np.float32(yq.scale[0])))
    attrs = SoftmaxAttrs(table, scale, int(yq.zero_point[0]))
    ctx.emit(OpKind.SOFTMAX, [x], attrs, [(ctx.output(), QType(xt.dtype, xt.shape, yq))])


def _integer_input(ctx: LoweringContext) -> tuple[str, QType]:
    name, xt = ctx.tensor(0, "input")
    if not xt.dtype.is_integer:
        raise ctx.unsupported(
            "float activation: hwgen runs quantized networks (no DequantizeLinear→"
            f"{ctx.node.op_type}→QuantizeLinear group to fold here)"
        )
    return name, xt


@lowers("Relu")
def relu(ctx: LoweringContext) -> None:
    x, xt = _integer_input(ctx)
    attrs = ClampAttrs(max(0, xt.dtype.qmin), xt.dtype.qmax)
    ctx.emit(OpKind.CLAMP, [x], attrs, [(ctx.output(), xt)])


@lowers("Clip")
def clip(ctx: LoweringContext) -> None:
    x, xt = _integer_input(ctx)
    bounds = []
    for index, default in ((1, xt.dtype.qmin), (2, xt.dtype.qmax)):
        value = ctx.integer_scalar(index, "clip bound")
        # A bound beyond the type's range clips nothing the tensor can hold.
        bounds.append(default if value is None else min(max(value, xt.dtype.qmin), xt.dtype.qmax))
    ctx.emit(OpKind.CLAMP, [x], ClampAttrs(bounds[0], bounds[1]), [(ctx.output(), xt)])
