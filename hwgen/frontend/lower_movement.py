"""Data movement: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, QLinearConcat, Pad.

They move stored values without arithmetic, so they accept any element type and keep the
quantization of their input.
"""

from __future__ import annotations

import numpy as np

from hwgen.frontend.context import LoweringContext
from hwgen.frontend.registry import MS_DOMAIN, lowers
from hwgen.ir import (
    ConcatAttrs,
    GatherAttrs,
    LookupAttrs,
    NoAttrs,
    OpKind,
    PadAttrs,
    QType,
    SliceAttrs,
    TransposeAttrs,
)
from hwgen.ir.types import DType, Quant
from hwgen.sim_models.quant import dequantize_linear, quantize_linear


def _reshape_to(ctx: LoweringContext, shape: tuple[int, ...]) -> None:
    x = ctx.required(0, "data")
    if x in ctx.consts:
        ctx.fold_constant(ctx.consts[x].reshape(shape))
        return
    name, xt = ctx.tensor(0, "data")
    if int(np.prod(shape, dtype=np.int64)) != xt.size:
        raise ctx.unsupported(f"cannot reshape {list(xt.shape)} to {list(shape)}")
    ctx.emit(OpKind.RESHAPE, [name], NoAttrs(), [(ctx.output(), xt.with_shape(shape))])


def _input_shape(ctx: LoweringContext) -> tuple[int, ...]:
    x = ctx.required(0, "data")
    if x in ctx.consts:
        return tuple(ctx.consts[x].shape)
    return ctx.tensor(0, "data")[1].shape


@lowers("Reshape")
def reshape(ctx: LoweringContext) -> None:
    in_shape = _input_shape(ctx)
    target = [int(d) for d in ctx.const(1, "shape").reshape(-1)]
    allow_zero = bool(ctx.attr("allowzero", 0))
    shape = [in_shape[i] if d == 0 and not allow_zero else d for i, d in enumerate(target)]
    if shape.count(-1) > 1:
        raise ctx.unsupported(f"shape {target} has more than one -1")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        total = int(np.prod(in_shape, dtype=np.int64))
        if known == 0 or total % known:
            raise ctx.unsupported(f"cannot reshape {list(in_shape)} to {target}")
        shape[shape.index(-1)] = total // known
    _reshape_to(ctx, tuple(shape))


@lowers("Flatten")
def flatten(ctx: LoweringContext) -> None:
    in_shape = _input_shape(ctx)
    axis = int(ctx.attr("axis", 1))
    axis = axis + len(in_shape) if axis < 0 else axis
    outer = int(np.prod(in_shape[:axis], dtype=np.int64))
    _reshape_to(ctx, (outer, int(np.prod(in_shape[axis:], dtype=np.int64))))


def _raw_axes(ctx: LoweringContext) -> list[int] | None:
    """Axes from the attribute (before opset 13) or the constant input (from opset 13)."""
    axes = ctx.attr("axes")
    if axes is None and ctx.input(1) is not None:
        axes = [int(a) for a in ctx.const(1, "axes").reshape(-1)]
    return None if axes is None else [int(a) for a in axes]


def _normalized(axes: list[int], rank: int) -> list[int]:
    return sorted(a + rank if a < 0 else a for a in axes)


@lowers("Squeeze")
def squeeze(ctx: LoweringContext) -> None:
    in_shape = _input_shape(ctx)
    raw = _raw_axes(ctx)
    if raw is None:
        axes = [i for i, d in enumerate(in_shape) if d == 1]
    else:
        axes = _normalized(raw, len(in_shape))
    if any(in_shape[a] != 1 for a in axes):
        raise ctx.unsupported(f"axes {axes} of {list(in_shape)} are not all 1")
    _reshape_to(ctx, tuple(d for i, d in enumerate(in_shape) if i not in axes))


@lowers("Unsqueeze")
def unsqueeze(ctx: LoweringContext) -> None:
    in_shape = _input_shape(ctx)
    raw = _raw_axes(ctx)
    if raw is None:
        raise ctx.unsupported("Unsqueeze needs axes")
    shape = list(in_shape)
    for a in _normalized(raw, len(in_shape) + len(raw)):
        shape.insert(a, 1)
    _reshape_to(ctx, tuple(shape))


def _slice_range(start: int, end: int, step: int, extent: int) -> tuple[int, int, int]:
    """ONNX Slice's clamping of one axis (negative indices from the end, out-of-range ends
    clamped), as (first index, count, step)."""
    start = start + extent if start < 0 else start
    end = end + extent if end < 0 else end
    if step > 0:
        start, end = min(max(start, 0), extent), min(max(end, 0), extent)
        count = max(0, -(-(end - start) // step))
    else:
        start, end = min(max(start, 0), extent - 1), min(max(end, -1), extent - 1)
        count = max(0, -(-(start - end) // -step))
    return start, count, step


@lowers("Slice")
def slice_(ctx: LoweringContext) -> None:
    in_shape = _input_shape(ctx)
    rank = len(in_shape)
    if ctx.input(1) is not None:  # from opset 10: starts, ends, axes, steps are inputs
        starts = [int(v) for v in ctx.const(1, "starts").reshape(-1)]
        ends = [int(v) for v in ctx.const(2, "ends").reshape(-1)]
        axes = [int(v) for v in ctx.const(3, "axes").reshape(-1)] if ctx.input(3) else None
        steps = [int(v) for v in ctx.const(4, "steps").reshape(-1)] if ctx.input(4) else None
    else:
        starts, ends = list(ctx.attr("starts", [])), list(ctx.attr("ends", []))
        axes, steps = ctx.attr("axes"), None
    axes = list(range(len(starts))) if axes is None else [int(a) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ctx.unsupported("starts, ends, axes and steps differ in length")
    ranges = [(0, extent, 1) for extent in in_shape]
    seen: set[int] = set()
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank or axis in seen:
            raise ctx.unsupported(f"axes {axes} for a rank-{rank} input")
        if step == 0:
            raise ctx.unsupported("a step of 0")
        seen.add(axis)
        ranges[axis] = _slice_range(start, end, step, in_shape[axis])
    shape = tuple(count for _, count, _ in ranges)
    if 0 in shape:
        raise ctx.unsupported(f"the slice of {list(in_shape)} is empty")
    attrs = SliceAttrs(tuple(ranges))
    x = ctx.required(0, "data")
    if x in ctx.consts:
        picks = [list(attrs.indices(axis)) for axis in range(rank)]
        ctx.fold_constant(ctx.consts[x][np.ix_(*picks)])
        return
    name, xt = ctx.tensor(0, "data")
    ctx.emit(OpKind.SLICE, [name], attrs, [(ctx.output(), xt.with_shape(shape))])


@lowers("Gather")
def gather(ctx: LoweringContext) -> None:
    """Gather by constant indices (a head picking its outputs): a table of which input
    element each output element is."""
    in_shape = _input_shape(ctx)
    rank = len(in_shape)
    axis = int(ctx.attr("axis", 0))
    if not -rank <= axis < rank:
        raise ctx.unsupported(f"axis {axis} of a rank-{rank} input")
    axis %= rank
    indices = ctx.const(1, "indices").astype(np.int64)
    extent = in_shape[axis]
    if np.any(indices < -extent) or np.any(indices >= extent):
        raise ctx.unsupported(f"indices {indices.reshape(-1)[:8].tolist()} beyond {extent}")
    indices = np.where(indices < 0, indices + extent, indices)
    x = ctx.required(0, "data")
    if x in ctx.consts:
        ctx.fold_constant(np.take(ctx.consts[x], indices, axis=axis))
        return
    name, xt = ctx.tensor(0, "data")
    positions = np.arange(xt.size, dtype=np.int64).reshape(in_shape)
    source = np.take(positions, indices, axis=axis)
    if source.size == 0:
        raise ctx.unsupported("the gather is empty")
    attrs = GatherAttrs(np.ascontiguousarray(source.reshape(-1)))
    ctx.emit(OpKind.GATHER, [name], attrs, [(ctx.output(), xt.with_shape(source.shape))])
    if name in ctx.ranges:  # the integer dialects' range of values goes along
        ctx.ranges[ctx.output()] = ctx.ranges[name]
    if name in ctx.integral:
        ctx.integral.add(ctx.output())


def _split_sizes(ctx: LoweringContext, extent: int, parts: int) -> list[int]:
    """Split's sizes: given (an input from opset 13, an attribute before), or `num_outputs`
    chunks of ceil(extent / n) with a smaller last one (opset 18), or equal parts."""
    given = ctx.const(1, "split").reshape(-1) if ctx.input(1) else ctx.attr("split")
    if given is not None:
        sizes = [int(v) for v in given]
    elif extent % parts == 0 or ctx.attr("num_outputs") is not None:
        chunk = -(-extent // parts)
        sizes = [min(chunk, extent - k * chunk) for k in range(parts)]
    else:
        raise ctx.unsupported(f"an axis of {extent} does not split into {parts} equal parts")
    if len(sizes) != parts or sum(sizes) != extent or min(sizes) <= 0:
        raise ctx.unsupported(f"sizes {sizes} do not split an axis of {extent} into {parts}")
    return sizes


@lowers("Split")
def split(ctx: LoweringContext) -> None:
    """Each output a Slice of the input along the axis."""
    name, xt = ctx.tensor(0, "input")
    rank = len(xt.shape)
    axis = int(ctx.attr("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ctx.unsupported(f"axis {axis} for a rank-{rank} input")
    outputs = list(ctx.node.output)
    start = 0
    for k, size in enumerate(_split_sizes(ctx, xt.shape[axis], len(outputs))):
        ranges = [(0, extent, 1) for extent in xt.shape]
        ranges[axis] = (start, size, 1)
        shape = tuple(count for _, count, _ in ranges)
        node = ctx.emit(
            OpKind.SLICE, [name], SliceAttrs(tuple(ranges)), [(outputs[k], xt.with_shape(shape))]
        )
        node.name = ctx.node.name if k == 0 else f"{ctx.node.name}.{k}"
        start += size


@lowers("Transpose")
def transpose(ctx: LoweringContext) -> None:
    name, xt = ctx.tensor(0, "data")
    perm = tuple(int(p) for p in ctx.attr("perm", list(range(len(xt.shape)))[::-1]))
    if sorted(perm) != list(range(len(xt.shape))):
        raise ctx.unsupported(f"perm {list(perm)} is not a permutation of {len(xt.shape)} axes")
    shape = tuple(xt.shape[p] for p in perm)
    ctx.emit(OpKind.TRANSPOSE, [name], TransposeAttrs(perm), [(ctx.output(), xt.with_shape(shape))])


def _concat(ctx: LoweringContext, parts: list[tuple[str, QType]]) -> None:
    first = parts[0][1]
    rank = len(first.shape)
    axis = int(ctx.attr("axis", 0))
    axis = axis + rank if axis < 0 else axis
    for name, qt in parts:
        if qt.dtype is not first.dtype or len(qt.shape) != rank:
            raise ctx.unsupported(
                f"input '{name}' ({qt.describe()}) does not match {first.describe()}"
            )
        if any(qt.shape[d] != first.shape[d] for d in range(rank) if d != axis):
            raise ctx.unsupported(
                f"input '{name}' shape {list(qt.shape)} does not concatenate on axis {axis}"
            )
    quants = [qt.quant for _, qt in parts if qt.quant is not None]
    if any(not q.same_as(quants[0]) for q in quants):
        raise ctx.unsupported(
            "inputs are quantized differently; requantizing concat is not supported"
        )
    shape = list(first.shape)
    shape[axis] = sum(qt.shape[axis] for _, qt in parts)
    out = QType(first.dtype, tuple(shape), quants[0] if quants else None)
    ctx.emit(OpKind.CONCAT, [n for n, _ in parts], ConcatAttrs(axis), [(ctx.output(), out)])


def requant_table(xq: Quant, yq: Quant, x: DType, y: DType) -> np.ndarray:
    """Q_y(DQ_x(v)) for every value v of type x: onnxruntime's requantization table
    (QlinearBuildLookupTable with the identity)."""
    values = np.arange(x.qmin, x.qmax + 1)
    real = dequantize_linear(values, xq.scale, xq.zero_point)
    return quantize_linear(real, yq.scale, yq.zero_point, y.numpy).astype(np.int32)


@lowers("Concat")
def concat(ctx: LoweringContext) -> None:
    _concat(ctx, [ctx.tensor(i, f"input {i}") for i in range(len(ctx.node.input))])


@lowers("QLinearConcat", MS_DOMAIN)
def qlinear_concat(ctx: LoweringContext) -> None:
    """Inputs quantized as the output are copied; the others first go through onnxruntime's
    table, Q(DQ(v)) for each of their 256 values (contrib_ops/cpu/qlinear_concat.cc)."""
    count = (len(ctx.node.input) - 2) // 3
    parts = []
    for k in range(count):
        name, qt = ctx.tensor(2 + 3 * k, f"input {k}")
        quant = ctx.quant_of(3 + 3 * k, 4 + 3 * k, qt.dtype)
        qt = ctx.bind_quant(name, quant)
        yq = ctx.quant_of(0, 1, qt.dtype)
        if quant.per_channel or yq.per_channel:
            raise ctx.unsupported("QLinearConcat takes one scale per tensor")
        if not quant.same_as(yq):
            table = requant_table(quant, yq, qt.dtype, qt.dtype)
            requantized = f"{ctx.output()}.input{k}"
            node = ctx.emit(
                OpKind.LOOKUP,
                [name],
                LookupAttrs(table),
                [(requantized, QType(qt.dtype, qt.shape, yq))],
            )
            node.name = f"{ctx.node.name}.requant{k}"
            name, qt = requantized, ctx.graph.tensors[requantized]
        parts.append((name, qt))
    _concat(ctx, parts)


@lowers("Pad")
def pad(ctx: LoweringContext) -> None:
    mode = ctx.attr("mode", "constant")
    if mode != "constant":
        raise ctx.unsupported(f"Pad mode '{mode}' is not supported (constant only)")
    name, xt = ctx.tensor(0, "data")
    rank = len(xt.shape)
    pads_attr = ctx.attr("pads")
    pads = [
        int(p) for p in (pads_attr if pads_attr is not None else ctx.const(1, "pads").reshape(-1))
    ]
    if ctx.input(3) is not None:
        axes = [int(a) % rank for a in ctx.const(3, "axes").reshape(-1)]
        full = [0] * (2 * rank)
        for k, a in enumerate(axes):
            full[a], full[a + rank] = pads[k], pads[k + len(axes)]
        pads = full
    if len(pads) != 2 * rank:
        raise ctx.unsupported(f"{len(pads)} pads for a rank-{rank} tensor")
    value: int | float = 0
    if xt.dtype.is_integer:
        value = ctx.integer_scalar(2, "pad value") or 0
        if not xt.dtype.qmin <= value <= xt.dtype.qmax:
            raise ctx.unsupported(f"pad value {value} does not fit a {xt.dtype.value} tensor")
    elif ctx.input(2) is not None:
        value = float(ctx.const(2, "pad value").reshape(-1)[0])
    shape = tuple(d + pads[i] + pads[i + rank] for i, d in enumerate(xt.shape))
    if min(shape) <= 0:
        raise ctx.unsupported(f"pads {pads} crop {list(xt.shape)} to nothing")
    attrs = PadAttrs(tuple(pads), int(value) if xt.dtype.is_integer else value)
    ctx.emit(OpKind.PAD, [name], attrs, [(ctx.output(), xt.with_shape(shape))])
