"""NEMO/DORY's element-wise arithmetic: Mul, Add, Sub, Div, Floor, Ceil, Round, Cast, Clip and
Relu on integer values in float32 or int64 tensors, each lowered to an ARITH step in the type
onnxruntime computes it in (sim_models/arith.py).

DORY's requantization after a convolution, for instance, is Mul(kappa) -> Add(lambda) -> Cast
(int64) -> Mul(m) -> Div(d) -> Cast -> Clip(0, 255): float32 products of accumulators of up to
2^30, rounded, truncated to int64, then an integer division. Each step's result range is carried
along (from the convolution's weights and its input's range), so that a result known to be an
integer of 8 bits is stored as one, and the next convolution takes it as its input."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwgen.frontend.context import LoweringContext
from hwgen.ir import ArithAttrs, ArithKind, ArithStep, DType, FloatSoftmaxAttrs, OpKind, QType
from hwgen.sim_models import arith

CONTAINER_TYPES = {
    1: DType.FLOAT32,  # onnx.TensorProto.FLOAT
    6: DType.INT32,
    7: DType.INT64,
}
_BINARY = {"Mul": ArithKind.MUL, "Add": ArithKind.ADD, "Sub": ArithKind.SUB, "Div": ArithKind.DIV}
_ROUNDING = {"Floor": ArithKind.FLOOR, "Ceil": ArithKind.CEIL, "Round": ArithKind.ROUND}
FLOAT_EXACT = 2**24  # float32 holds every integer below this exactly

Range = tuple[float, float]


def container_of(ctx: LoweringContext, name: str) -> DType:
    """The ONNX type of a tensor: recorded as its producer was lowered, or a graph input's or a
    constant's own; NEMO carries integers in float32 otherwise."""
    if name in ctx.containers:
        return ctx.containers[name]
    if name in ctx.consts:
        return DType.from_numpy(ctx.consts[name].dtype)
    for graph_input in ctx.view.model.graph.input:
        if graph_input.name == name:
            return CONTAINER_TYPES.get(graph_input.type.tensor_type.elem_type, DType.FLOAT32)
    return DType.FLOAT32


def range_of(ctx: LoweringContext, name: str) -> Range:
    if name in ctx.ranges:
        return ctx.ranges[name]
    dtype = ctx.graph.type_of(name).dtype
    if dtype.is_integer:
        return float(dtype.qmin), float(dtype.qmax)
    return -np.inf, np.inf


def integral(ctx: LoweringContext, name: str) -> bool:
    return ctx.graph.type_of(name).dtype.is_integer or name in ctx.integral


def storage_type(lower: float, upper: float, whole: bool, container: DType) -> DType:
    """The narrowest IR type that holds every value of the range exactly."""
    if not whole or not (np.isfinite(lower) and np.isfinite(upper)):
        return DType.FLOAT32 if container is DType.FLOAT32 else container
    for dtype in (DType.UINT8, DType.INT8, DType.INT32):
        if dtype.qmin <= lower and upper <= dtype.qmax:
            return dtype
    return container


def _integral_after(step: ArithStep, inputs_whole: bool) -> bool:
    if step.kind in (ArithKind.FLOOR, ArithKind.CEIL, ArithKind.ROUND):
        return True
    if step.kind is ArithKind.SIGMOID:
        return False
    if step.kind is ArithKind.CAST:
        return inputs_whole or step.container is not DType.FLOAT32
    operand_whole = step.operand is None or bool(
        np.all(np.asarray(step.operand, np.float64) == np.rint(np.asarray(step.operand)))
    )
    if step.kind is ArithKind.DIV:
        return step.container is not DType.FLOAT32 and inputs_whole
    return inputs_whole and operand_whole


def emit_step(ctx: LoweringContext, inputs: list[str], step: ArithStep) -> None:
    """One ARITH node, its result stored in the narrowest exact type of its range."""
    types = [ctx.graph.type_of(name) for name in inputs]
    shape = tuple(int(d) for d in np.broadcast_shapes(*(t.shape for t in types)))
    channels = shape[1] if len(shape) > 1 else 1
    ranges = [range_of(ctx, name) for name in inputs]
    divisor = ranges[-1] if step.operand is None else ranges[0] if step.operand_first else None
    if step.kind is ArithKind.DIV and divisor is not None and divisor[0] <= 0 <= divisor[1]:
        raise ctx.unsupported(
            f"a division by a tensor whose values reach zero ({divisor[0]:g} .. {divisor[1]:g})"
        )
    lower, upper = arith.image(ranges, step, channels)
    if not (np.isfinite(lower) and np.isfinite(upper)):
        raise ctx.unsupported(f"its results reach {lower:g} .. {upper:g}: not finite")
    whole = _integral_after(step, all(integral(ctx, name) for name in inputs))
    out = ctx.output()
    dtype = storage_type(lower, upper, whole, step.container)
    ctx.emit(OpKind.ARITH, inputs, ArithAttrs((step,)), [(out, QType(dtype, shape))])
    ctx.ranges[out] = (lower, upper)
    ctx.containers[out] = step.container
    if whole:
        ctx.integral.add(out)


def _per_channel(
    ctx: LoweringContext, value: npt.NDArray[np.generic], shape: tuple[int, ...]
) -> npt.NDArray[np.generic]:
    """A constant operand as one value, or one per channel (axis 1) of the tensor."""
    flat = value.reshape(-1)
    if flat.size == 1:
        return flat
    channels = shape[1] if len(shape) > 1 else 0
    padded = (1,) * (len(shape) - value.ndim) + tuple(value.shape)
    per_channel = [i for i, d in enumerate(padded) if d != 1]
    if len(padded) != len(shape) or per_channel != [1] or padded[1] != channels:
        raise ctx.unsupported(
            f"a constant of shape {list(value.shape)} for a tensor of shape {list(shape)}: one "
            "value, or one per channel, is supported"
        )
    return flat


def lower_binary(ctx: LoweringContext) -> None:
    kind = _BINARY[ctx.node.op_type]
    names = [ctx.required(i, "operand") for i in (0, 1)]
    constant = [i for i, name in enumerate(names) if name in ctx.consts]
    if len(constant) == 2:
        raise ctx.unsupported("both operands are constants")
    if constant:
        data = 1 - constant[0]
        x, xt = ctx.tensor(data, "operand")
        container = container_of(ctx, ctx.required(data, "operand"))
        value = np.asarray(ctx.consts[names[constant[0]]])
        operand = _per_channel(ctx, value, xt.shape).astype(container.numpy)
        if container is not DType.FLOAT32 and kind is ArithKind.DIV and np.any(operand == 0):
            raise ctx.unsupported("an integer division by zero")
        step = ArithStep(kind, container, operand, operand_first=constant[0] == 0)
        emit_step(ctx, [x], step)
        return
    (a, at), (b, bt) = ctx.tensor(0, "A"), ctx.tensor(1, "B")
    if at.shape != bt.shape:
        raise ctx.unsupported(f"operands of shapes {list(at.shape)} and {list(bt.shape)}")
    emit_step(ctx, [a, b], ArithStep(kind, container_of(ctx, names[0])))


def lower_rounding(ctx: LoweringContext) -> None:
    x, _ = ctx.tensor(0, "X")
    emit_step(ctx, [x], ArithStep(_ROUNDING[ctx.node.op_type], DType.FLOAT32))


def lower_cast(ctx: LoweringContext) -> None:
    x, _ = ctx.tensor(0, "input")
    target = CONTAINER_TYPES.get(int(ctx.attr("to", 0)))
    if target is None:
        raise ctx.unsupported(f"Cast to ONNX type {ctx.attr('to')} (float32, int32, int64 only)")
    emit_step(ctx, [x], ArithStep(ArithKind.CAST, target))


def lower_clip(ctx: LoweringContext) -> None:
    """Bounds from attributes before opset 11, inputs after; an absent one is the type's end."""
    x, _ = ctx.tensor(0, "input")
    container = container_of(ctx, ctx.required(0, "input"))
    ends: tuple[float | int, float | int] = (
        (float(np.finfo(np.float32).min), float(np.finfo(np.float32).max))
        if container is DType.FLOAT32
        else (container.qmin, container.qmax)
    )
    bounds: list[float | int] = []
    for index, name, end in ((1, "min", ends[0]), (2, "max", ends[1])):
        given = ctx.attr(name) if ctx.opset < 11 else ctx.optional_const(index, name)
        if given is None:
            bounds.append(end)
            continue
        value = np.asarray(given).reshape(-1)
        if value.size != 1 or not np.isfinite(float(value[0])):
            raise ctx.unsupported(f"Clip's {name} must be one finite value")
        bounds.append(value[0].item())
    operand = np.array(bounds, dtype=container.numpy)
    emit_step(ctx, [x], ArithStep(ArithKind.CLIP, container, operand))


def lower_sigmoid(ctx: LoweringContext) -> None:
    """A head's Sigmoid on integer sums: float32 out, as onnxruntime computes it."""
    x, _ = ctx.tensor(0, "X")
    emit_step(ctx, [x], ArithStep(ArithKind.SIGMOID, DType.FLOAT32))


def lower_softmax(ctx: LoweringContext) -> None:
    """A head's Softmax or LogSoftmax on integer sums, over the last axis (before opset 13, the
    axes from `axis` on taken as one: the same where `axis` is the last)."""
    x, xt = ctx.tensor(0, "input")
    rank = len(xt.shape)
    axis = int(ctx.attr("axis", -1 if ctx.opset >= 13 else 1))
    if axis % rank != rank - 1:
        raise ctx.unsupported(f"{ctx.node.op_type} over axis {axis} of a rank-{rank} tensor")
    attrs = FloatSoftmaxAttrs(log=ctx.node.op_type == "LogSoftmax")
    out = QType(DType.FLOAT32, xt.shape)
    ctx.emit(OpKind.FLOAT_SOFTMAX, [x], attrs, [(ctx.output(), out)])
    ctx.containers[ctx.output()] = DType.FLOAT32


def lower_relu(ctx: LoweringContext) -> None:
    x, _ = ctx.tensor(0, "X")
    container = container_of(ctx, ctx.required(0, "X"))
    top = np.finfo(np.float32).max if container is DType.FLOAT32 else np.iinfo(np.int64).max
    operand = np.array([0, top]).astype(container.numpy)
    emit_step(ctx, [x], ArithStep(ArithKind.CLIP, container, operand))


ARITH_LOWERINGS = {
    **{op: lower_binary for op in _BINARY},
    **{op: lower_rounding for op in _ROUNDING},
    "Cast": lower_cast,
    "Clip": lower_clip,
    "Relu": lower_relu,
    "Sigmoid": lower_sigmoid,
    "Softmax": lower_softmax,
    "LogSoftmax": lower_softmax,
}
