"""Integer matrix product and 2-D convolution with exact int32 accumulation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwgen.ir.geometry import Conv2dGeometry
from hwgen.sim_models.quant import wrap_int32

I64 = npt.NDArray[np.int64]


def _exact_matmul(a: I64, b: I64) -> I64:
    # float64 holds every partial sum exactly while |sum| < 2^53, far beyond any int8 reduction
    # hwgen accepts, and runs on BLAS instead of numpy's slow integer loops.
    return np.asarray(np.rint(np.matmul(a.astype(np.float64), b.astype(np.float64)))).astype(
        np.int64
    )


def matmul_acc(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    a_zero_point: npt.ArrayLike = 0,
    b_zero_point: npt.ArrayLike = 0,
    bias: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int32]:
    """(a - azp) @ (b - bzp) (+ bias) with numpy.matmul broadcasting, accumulated in int32.

    `a_zero_point` is per tensor or per row of a; `b_zero_point` per tensor or per column of b;
    both arrive already shaped to broadcast.
    """
    a64 = np.asarray(a).astype(np.int64) - np.asarray(a_zero_point, dtype=np.int64)
    b64 = np.asarray(b).astype(np.int64) - np.asarray(b_zero_point, dtype=np.int64)
    acc = _exact_matmul(a64, b64)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)
    return wrap_int32(acc)


def windows(x: npt.NDArray[np.generic], geom: Conv2dGeometry, pad_value: object) -> np.ndarray:
    """All windows of an NCHW tensor: shape (N, C, OH, OW, KH, KW), padded with `pad_value`."""
    n, c, h, w = x.shape
    oh, ow = geom.output_size(h, w)
    kh, kw = geom.kernel
    sh, sw = geom.strides
    dh, dw = geom.dilations
    top, left = geom.pads[0], geom.pads[1]
    # Extra padding at the end covers windows that ceil_mode lets run past the end padding.
    need_h = (oh - 1) * sh + dh * (kh - 1) + 1
    need_w = (ow - 1) * sw + dw * (kw - 1) + 1
    bottom = max(need_h - h - top, 0)
    right = max(need_w - w - left, 0)
    padded = np.full((n, c, top + h + bottom, left + w + right), pad_value, dtype=x.dtype)
    padded[:, :, top : top + h, left : left + w] = x
    rows = (np.arange(oh) * sh)[:, None] + (np.arange(kh) * dh)[None, :]
    cols = (np.arange(ow) * sw)[:, None] + (np.arange(kw) * dw)[None, :]
    return padded[:, :, rows[:, None, :, None], cols[None, :, None, :]]


def conv2d_acc(
    x: npt.ArrayLike,
    w: npt.ArrayLike,
    geom: Conv2dGeometry,
    group: int = 1,
    x_zero_point: int = 0,
    w_zero_point: npt.ArrayLike = 0,
    bias: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int32]:
    """NCHW x OIHW integer convolution, int32 accumulator of shape (N, O, OH, OW).

    Padding holds the input zero point, so padded taps contribute nothing.
    """
    xi = np.asarray(x)
    wi = np.asarray(w).astype(np.int64)
    n, c, _, _ = xi.shape
    o = wi.shape[0]
    wzp = np.asarray(w_zero_point, dtype=np.int64).reshape(-1)
    wc = wi - (wzp.reshape(-1, 1, 1, 1) if wzp.size > 1 else wzp.reshape(()))
    win = windows(xi.astype(np.int64), geom, x_zero_point) - x_zero_point
    _, _, oh, ow, kh, kw = win.shape
    cg, og = c // group, o // group
    out = np.empty((n, o, oh, ow), dtype=np.int64)
    for g in range(group):
        # (N, OH, OW, Cg*KH*KW) @ (Cg*KH*KW, Og)
        patches = (
            win[:, g * cg : (g + 1) * cg]
            .transpose(0, 2, 3, 1, 4, 5)
            .reshape(n, oh, ow, cg * kh * kw)
        )
        filters = wc[g * og : (g + 1) * og].reshape(og, cg * kh * kw).T
        out[:, g * og : (g + 1) * og] = _exact_matmul(patches, filters).transpose(0, 3, 1, 2)
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.int64).reshape(1, -1, 1, 1)
    return wrap_int32(out)
