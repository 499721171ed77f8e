"""Resize (and Upsample, its predecessor) of an NCHW image's height and width, nearest or
linear, on 8-bit values (QOperator graphs, and QDQ ones where onnxruntime drops the DQ/Q pair
around a nearest Resize) or on float32 ones (a linear Resize between DQ and Q), lowered to
tables of which input rows and columns each output pixel reads and with what weights.

The tables are computed here as onnxruntime's kernel setup computes them, in float32 step by
step (onnxruntime/core/providers/cpu/tensor/upsample.cc: UpsampleNearestSetupInputMappings,
SetupUpsampleBilinear, SetupUpsampleBilinearInteger; the coordinate and rounding functions in
upsamplebase.h), so that golden and the host C only index and weigh.

A linear Resize has two results in onnxruntime: its NCHW kernel weighs in float32, but where
its layout optimizer runs the node channels-last (after a QLinearConv, typically) the integer
kernel weighs in 2^-10 steps. Which one each node gets is asked of onnxruntime itself
(hwgen/frontend/ort_graph.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen.frontend.context import LoweringContext
from hwgen.frontend.registry import lowers
from hwgen.ir import DType, NoAttrs, OpKind, ResizeAttrs, ResizeKind

f32 = np.float32
HALF = f32(0.5)
FIXED_ONE = 1 << 10

# coordinate_transformation_mode -> original coordinate of output index x, as a float32 of
# (x, scale, output length, input length).
Coordinate = Callable[[np.float32, np.float32, int, int], np.float32]
_COORDINATES: dict[str, Coordinate] = {
    "half_pixel": lambda x, s, out, inp: f32(f32((x + HALF) / s) - HALF),
    "pytorch_half_pixel": lambda x, s, out, inp: (
        f32(f32((x + HALF) / s) - HALF) if out > 1 else f32(0)
    ),
    "asymmetric": lambda x, s, out, inp: f32(x / s),
    "tf_half_pixel_for_nn": lambda x, s, out, inp: f32((x + HALF) / s),
    "align_corners": lambda x, s, out, inp: (
        f32(0) if out == 1 else f32(f32(x * f32(inp - 1)) / f32(out - 1))
    ),
}


# The pickers take the float32 coordinate as a Python float: exact, and floor, ceil and trunc
# of it are those of the float32. onnxruntime (1.31) takes a coordinate within 1e-6 of a half
# as the half itself, so that a quotient like 1 / float32(2/7) = 3.4999998 rounds as 3.5 does;
# the difference from the half is exact in float32, so comparing it as a double changes nothing.
TIE = 1e-6


def _is_tie(x: float) -> bool:
    return abs(x - math.floor(x) - 0.5) <= TIE


def _round_prefer_floor(x: float, _: bool) -> int:
    return math.floor(x) if _is_tie(x) else _round_half_away(x)


def _round_prefer_ceil(x: float, _: bool) -> int:
    return math.ceil(x) if _is_tie(x) else _round_half_away(x)


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _simple(x: float, downsample: bool) -> int:
    return math.ceil(x) if downsample else math.trunc(x)


# nearest_mode -> the input index of an original coordinate (and whether the axis shrinks).
_NEAREST: dict[str, Callable[[float, bool], int]] = {
    "round_prefer_floor": _round_prefer_floor,
    "round_prefer_ceil": _round_prefer_ceil,
    "floor": lambda x, _: math.floor(x),
    "ceil": lambda x, _: math.ceil(x),
    "simple": _simple,  # Resize-10 and Upsample, which have no nearest_mode
}


def _original(coordinate: Coordinate, x: int, scale: np.float32, out: int, inp: int) -> np.float32:
    return f32(x) if scale == f32(1) else coordinate(f32(x), scale, out, inp)


def nearest_axis(
    coordinate: Coordinate, nearest: str, scale: np.float32, out: int, inp: int
) -> npt.NDArray[np.int32]:
    pick = _NEAREST[nearest]
    table = np.zeros((out, 2), np.int32)
    for x in range(out):
        index = pick(float(_original(coordinate, x, scale, out, inp)), bool(scale < f32(1)))
        table[x] = min(max(index, 0), inp - 1)
    return table


def linear_axis(
    coordinate: Coordinate, kind: ResizeKind, scale: np.float32, out: int, inp: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.generic]]:
    """The two input indices and the weights (d1, d2) of each output index."""
    index = np.zeros((out, 2), np.int32)
    fixed = kind is ResizeKind.LINEAR_FIXED
    weights = np.zeros((out, 2), np.int32 if fixed else np.float32)
    for x in range(out):
        v = min(max(_original(coordinate, x, scale, out, inp), f32(0)), f32(inp - 1))
        first = min(int(v), inp - 1)
        second = min(first + 1, inp - 1)
        index[x] = first, second
        if first == second:
            weights[x] = (FIXED_ONE // 2,) * 2 if fixed else (HALF, HALF)
        elif fixed:
            steps = int(f32(v * f32(FIXED_ONE)))
            weights[x] = abs(steps - first * FIXED_ONE), abs(steps - second * FIXED_ONE)
        else:
            weights[x] = abs(f32(v - f32(first))), abs(f32(v - f32(second)))
    return index, weights


def _scales_and_shape(
    ctx: LoweringContext, shape: tuple[int, ...], legacy: bool
) -> tuple[list[np.float32], tuple[int, ...]]:
    """Per axis, the scale as onnxruntime takes it, and the output shape: from `scales` (the
    float32 product with the input's extent, truncated), else from `sizes` (the scale then
    out / in)."""
    rank = len(shape)
    scales = None
    if ctx.node.op_type == "Upsample":
        raw = ctx.attr("scales")
        scales = ctx.const(1, "scales") if raw is None else np.asarray(raw, np.float32)
    else:
        scales = ctx.optional_const(1 if legacy else 2, "scales")
    if scales is not None and scales.size:
        per_axis = _per_axis(ctx, [f32(s) for s in scales.reshape(-1)], rank, f32(1))
        if any(not (np.isfinite(s) and s > 0) for s in per_axis):
            raise ctx.unsupported(f"scales {[float(s) for s in per_axis]} must be positive")
        return per_axis, tuple(int(s * f32(d)) for s, d in zip(per_axis, shape, strict=True))
    sizes = None if legacy else ctx.optional_const(3, "sizes")
    if sizes is None or not sizes.size:
        raise ctx.unsupported("neither scales nor sizes is given")
    if ctx.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ctx.unsupported("keep_aspect_ratio_policy other than 'stretch' is not supported")
    listed = [int(v) for v in sizes.reshape(-1)]
    out = tuple(int(v) for v in _per_axis(ctx, listed, rank, None, shape))
    if min(out) < 0:
        raise ctx.unsupported(f"sizes {listed} are negative")
    per_axis = [f32(f32(o) / f32(i)) if i else f32(1) for o, i in zip(out, shape, strict=True)]
    return per_axis, out


def _per_axis(
    ctx: LoweringContext,
    values: list[Any],
    rank: int,
    fill: Any,
    shape: tuple[int, ...] = (),
) -> list[Any]:
    """Values for every axis, where Resize-18's `axes` names only some (the others keep
    `fill`, or the input's extent where `fill` is None)."""
    axes = ctx.attr("axes")
    if axes is None:
        if len(values) != rank:
            raise ctx.unsupported(f"{len(values)} scales or sizes for a rank-{rank} input")
        return values
    if len(axes) != len(values):
        raise ctx.unsupported(f"{len(values)} scales or sizes for axes {list(axes)}")
    full = [fill if fill is not None else shape[a] for a in range(rank)]
    for a, v in zip(axes, values, strict=True):
        if not -rank <= a < rank:
            raise ctx.unsupported(f"axis {a} of a rank-{rank} input")
        full[a + rank if a < 0 else a] = v
    return full


def _modes(ctx: LoweringContext, legacy: bool) -> tuple[str, Coordinate, str]:
    mode = ctx.attr("mode", "nearest")
    if mode not in ("nearest", "linear"):
        raise ctx.unsupported(f"mode '{mode}' (hwgen resizes 'nearest' and 'linear')")
    if ctx.attr("antialias", 0):
        raise ctx.unsupported("antialias is not supported")
    transform = "asymmetric" if legacy else ctx.attr("coordinate_transformation_mode", "half_pixel")
    if transform not in _COORDINATES:
        raise ctx.unsupported(f"coordinate_transformation_mode '{transform}' is not supported")
    nearest = "simple" if legacy else ctx.attr("nearest_mode", "round_prefer_floor")
    if nearest not in _NEAREST:
        raise ctx.unsupported(f"nearest_mode '{nearest}' is not supported")
    return mode, _COORDINATES[transform], nearest


def _lower(ctx: LoweringContext, legacy: bool) -> None:
    mode, coordinate, nearest = _modes(ctx, legacy)
    x, xt = ctx.tensor(0, "X")
    if len(xt.shape) != 4:
        raise ctx.unsupported(f"a rank-{len(xt.shape)} input (hwgen resizes NCHW images)")
    if xt.dtype not in (DType.INT8, DType.UINT8, DType.FLOAT32):
        raise ctx.unsupported(f"{xt.dtype.value} elements (hwgen resizes 8-bit and float32)")
    scales, shape = _scales_and_shape(ctx, xt.shape, legacy)
    if shape == xt.shape:  # onnxruntime copies the input unchanged, whatever the scales
        ctx.emit(OpKind.RESHAPE, [x], NoAttrs(), [(ctx.output(), xt)])
        return
    if shape[:2] != xt.shape[:2] or scales[0] != 1 or scales[1] != 1:
        raise ctx.unsupported(
            f"scales {[float(s) for s in scales]}: hwgen resizes H and W only (N and C scale 1)"
        )
    if 0 in shape:
        raise ctx.unsupported(f"the output shape {list(shape)} is empty")
    out_type = xt.with_shape(shape)
    (_, _, h, w), (_, _, oh, ow) = xt.shape, shape
    if mode == "nearest":
        rows = nearest_axis(coordinate, nearest, scales[2], oh, h)
        cols = nearest_axis(coordinate, nearest, scales[3], ow, w)
        none = np.zeros((0, 2), np.int32)
        attrs = ResizeAttrs(ResizeKind.NEAREST, rows, cols, none, none)
    else:
        attrs = _linear(ctx, coordinate, scales, xt.shape, shape)
    ctx.emit(OpKind.RESIZE, [x], attrs, [(ctx.output(), out_type)])


def _linear(
    ctx: LoweringContext,
    coordinate: Coordinate,
    scales: list[np.float32],
    shape: tuple[int, ...],
    out: tuple[int, ...],
) -> ResizeAttrs:
    """The kernel onnxruntime runs: its NCHW one; channels-last, the integer one, except that
    where H keeps its scale of 1 it reads the NHWC tensor as NCHW and runs the float one over
    (W, C) (upsample.cc, BaseCompute: the layout is told by scales[1] alone)."""
    (_, c, h, w), (_, _, oh, ow) = shape, out
    float32 = ctx.tensor(0, "X")[1].dtype is DType.FLOAT32
    if ctx.node.name not in ctx.channels_last:
        kind = ResizeKind.LINEAR_FLOAT
        axes = ((scales[2], oh, h), (scales[3], ow, w))
    elif scales[2] != f32(1):  # its float32 channels-last kernel weighs as the NCHW one
        kind = ResizeKind.LINEAR_FLOAT if float32 else ResizeKind.LINEAR_FIXED
        axes = ((scales[2], oh, h), (scales[3], ow, w))
    else:
        kind = ResizeKind.LINEAR_FLOAT_WC
        axes = ((scales[3], ow, w), (f32(1), c, c))
    (rows, row_weights), (cols, col_weights) = (linear_axis(coordinate, kind, *a) for a in axes)
    return ResizeAttrs(kind, rows, cols, row_weights, col_weights)


@lowers("Resize")
def resize(ctx: LoweringContext) -> None:
    if ctx.attr("coordinate_transformation_mode") == "tf_crop_and_resize":
        raise ctx.unsupported("coordinate_transformation_mode 'tf_crop_and_resize' (extrapolation)")
    _lower(ctx, legacy=ctx.opset < 11)


@lowers("Upsample")
def upsample(ctx: LoweringContext) -> None:
    _lower(ctx, legacy=True)
