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
    dy1, dy2 = (attrs.row_weights[:, i][:, None] for i in (0, 1))
    dx1, dx2 = (attrs.col_weights[:, i][None, :] for i in (0, 1))
    if attrs.kind in (ResizeKind.LINEAR_FLOAT, ResizeKind.LINEAR_FLOAT_WC):
        f = np.float32
        total = (dx2 * dy2).astype(f) * x11.astype(f) + (dx1 * dy2).astype(f) * x21.astype(f)
        total = total + (dx2 * dy1).astype(f) * x12.astype(f)
        total = total + (dx1 * dy1).astype(f) * x22.astype(f)
        return total if x.dtype == f else np.trunc(total).astype(x.dtype)
    i = np.int64
    total = (
        (dx2 * dy2).astype(i) * x11.astype(i)
        + (dx1 * dy2).astype(i) * x21.astype(i)
        + (dx2 * dy1).astype(i) * x12.astype(i)
        + (dx1 * dy1).astype(i) * x22.astype(i)
    )
    # C's division of int32s: truncation toward zero.
    quotient = np.abs(total) >> FIXED_SHIFT
    return np.where(total < 0, -quotient, quotient).astype(x.dtype)
