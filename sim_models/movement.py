"""Data movement: exact for any element type."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hwgen.ir.geometry import Conv2dGeometry


def pad_constant(
    x: npt.ArrayLike, pads: Sequence[int], value: int | float
) -> npt.NDArray[np.generic]:
    """ONNX Pad, constant mode; `pads` lists all begins then all ends (negative crops)."""
    xa = np.asarray(x)
    rank = xa.ndim
    begins, ends = pads[:rank], pads[rank:]
    widths = [(max(b, 0), max(e, 0)) for b, e in zip(begins, ends, strict=True)]
    padded = np.pad(xa, widths, mode="constant", constant_values=np.asarray(value, xa.dtype))
    crop = tuple(
        slice(-min(b, 0), padded.shape[i] + min(e, 0))
        for i, (b, e) in enumerate(zip(begins, ends, strict=True))
    )
    return np.asarray(padded[crop])


def im2col(x: npt.ArrayLike, geometry: Conv2dGeometry, pad_value: int) -> npt.NDArray[np.generic]:
    """(N, C, H, W) -> (N, kh * kw * C, OH, OW): each output pixel's window, tap by tap, each
    tap's C channels (hwgen.ir.ops.Im2ColAttrs)."""
    xa = np.asarray(x)
    n, c, h, w = xa.shape
    kh, kw = geometry.kernel
    sh, sw = geometry.strides
    dh, dw = geometry.dilations
    top, left = geometry.pads[0], geometry.pads[1]
    oh, ow = geometry.output_size(h, w)
    out = np.full((n, kh * kw * c, oh, ow), pad_value, dtype=xa.dtype)
    oy = np.arange(oh)[:, None]
    ox = np.arange(ow)[None, :]
    for ky in range(kh):
        for kx in range(kw):
            iy = oy * sh - top + ky * dh
            ix = ox * sw - left + kx * dw
            inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
            taps = xa[:, :, np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)]
            first = (ky * kw + kx) * c
            out[:, first : first + c] = np.where(inside, taps, out[:, first : first + c])
    return out
