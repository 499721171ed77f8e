"""Resize of an NCHW tensor's H and W from per-axis tables, as onnxruntime's CPU kernels
compute it (onnxruntime/core/providers/cpu/tensor/upsample.h). The tables (which input rows
and columns each output pixel reads, and their weights) come from the frontend."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwgen.ir import ResizeAttrs, ResizeKind

FIXED_SHIFT = 20  # the channels-last kernel's weights are products of two 2^-10 steps


def resize(x: npt.NDArray[np.generic], attrs: ResizeAttrs) -> npt.NDArray[np.generic]:
    if attrs.kind is ResizeKind.LINEAR_FLOAT_WC:  # NHWC, seen as NCHW by the float kernel
        nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        return np.ascontiguousarray(_resize(nhwc, attrs).transpose(0, 3, 1, 2))
    return _resize(x, attrs)


def _resize(x: npt.NDArray[np.generic], attrs: ResizeAttrs) -> npt.NDArray[np.generic]:
    rows, cols = attrs.rows, attrs.cols
    if attrs.kind is ResizeKind.NEAREST:
        return np.ascontiguousarray(x[:, :, rows[:, 0]][:, :, :, cols[:, 0]])
    # The four neighbours: x11 (first row, first column), x21 (first row, second column),
    # x12 (second row, first column), x22; onnxruntime's names.
    x11, x21, x12, x22 = (
        x[:, :, rows[:, r]][:, :, :, cols[:, c]] for r, c in ((0, 0), (0, 1), (1, 0), (1, 1))
    )
    if attrs.kind is ResizeKind.LINEAR_FIXED:
        return _fixed(attrs, x11, x21, x12, x22).astype(x.dtype)
    f = np.float32
    wy: npt.NDArray[np.float32] = attrs.row_weights.astype(f)
    wx: npt.NDArray[np.float32] = attrs.col_weights.astype(f)
    dy1, dy2 = wy[:, 0:1], wy[:, 1:2]
    dx1, dx2 = wx[None, :, 0], wx[None, :, 1]
    total = (dx2 * dy2) * x11.astype(f) + (dx1 * dy2) * x21.astype(f)
    total = total + (dx2 * dy1) * x12.astype(f)
    total = total + (dx1 * dy1) * x22.astype(f)
    return np.asarray(total if x.dtype == f else np.trunc(total).astype(x.dtype))


def _fixed(attrs: ResizeAttrs, *neighbours: npt.NDArray[np.generic]) -> npt.NDArray[np.int64]:
    i = np.int64
    wy: npt.NDArray[np.int64] = attrs.row_weights.astype(i)
    wx: npt.NDArray[np.int64] = attrs.col_weights.astype(i)
    dy1, dy2 = wy[:, 0:1], wy[:, 1:2]
    dx1, dx2 = wx[None, :, 0], wx[None, :, 1]
    x11, x21, x12, x22 = (n.astype(i) for n in neighbours)
    total = (dx2 * dy2) * x11 + (dx1 * dy2) * x21 + (dx2 * dy1) * x12 + (dx1 * dy1) * x22
    # C's division of int32s: truncation toward zero.
    quotient = np.abs(total) >> FIXED_SHIFT
    return np.asarray(np.where(total < 0, -quotient, quotient), i)
