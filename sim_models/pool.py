"""Max and average pooling on quantized tensors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwgen.ir.geometry import Conv2dGeometry
from hwgen.sim_models.fp import rne
from hwgen.sim_models.linear import windows
from hwgen.sim_models.quant import dequantize_linear


def maxpool2d(x: npt.ArrayLike, geom: Conv2dGeometry) -> npt.NDArray[np.integer]:
    """MaxPool on integers; padding never wins (it holds the type's minimum)."""
    xi = np.asarray(x)
    lowest = np.iinfo(xi.dtype).min
    return np.asarray(windows(xi, geom, lowest).max(axis=(4, 5)), dtype=xi.dtype)


def _real_taps(height: int, width: int, geom: Conv2dGeometry) -> npt.NDArray[np.float32]:
    """Input elements (not padding) under each window."""
    ones = np.ones((1, 1, height, width), dtype=np.int64)
    return np.asarray(windows(ones, geom, 0).sum(axis=(4, 5))[0, 0], dtype=np.float32)


def qlinear_avgpool2d(
    x: npt.ArrayLike,
    x_scale: float,
    x_zero_point: int,
    y_scale: float,
    y_zero_point: int,
    geom: Conv2dGeometry,
    count_include_pad: bool,
) -> npt.NDArray[np.integer]:
    """com.microsoft QLinearAveragePool: dequantize to float32, sum the window in (h, w) order in
    float32, divide by the count, then rne(y / ys + yzp) and saturate.

    The count is the whole kernel with count_include_pad, even for windows that ceil_mode runs
    past the padding, and the input elements under the window without it (onnxruntime's rule).
    """
    xi = np.asarray(x)
    xf = dequantize_linear(xi, x_scale, x_zero_point)
    win = windows(xf, geom, np.float32(0))
    _, _, _, _, kh, kw = win.shape
    total = np.zeros(win.shape[:4], dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            total = (total + win[..., i, j]).astype(np.float32)
    counts: npt.NDArray[np.float32] | np.float32
    if count_include_pad:
        counts = np.float32(geom.kernel[0] * geom.kernel[1])
    else:
        counts = _real_taps(xi.shape[2], xi.shape[3], geom)
    mean = (total / counts).astype(np.float32)
    y = ((mean / np.float32(y_scale)).astype(np.float32) + np.float32(y_zero_point)).astype(
        np.float32
    )
    info = np.iinfo(xi.dtype)
    return np.asarray(np.clip(rne(y), info.min, info.max).astype(xi.dtype))


def int_avgpool2d(
    x: npt.ArrayLike, geom: Conv2dGeometry, count_include_pad: bool, half_up: bool
) -> npt.NDArray[np.integer]:
    """Integer average pooling: the exact sum of each window divided by its count (the whole
    kernel with count_include_pad, the input elements under it otherwise), rounded down
    (NEMO/DORY's Floor) or as Deeploy's kernel does, (sum + count / 2) / count truncated toward
    zero; saturated to the input's type."""
    xi = np.asarray(x)
    total = windows(xi.astype(np.int64), geom, np.int64(0)).sum(axis=(4, 5))
    counts: npt.NDArray[np.int64] | int
    if count_include_pad:
        counts = geom.kernel[0] * geom.kernel[1]
    else:
        counts = _real_taps(xi.shape[2], xi.shape[3], geom).astype(np.int64)
    if half_up:
        biased = total + np.asarray(counts) // 2
        mean = np.sign(biased) * (np.abs(biased) // counts)
    else:
        mean = total // counts
    info = np.iinfo(xi.dtype)
    return np.asarray(np.clip(mean, info.min, info.max).astype(xi.dtype))


# MLAS computes the global average in this range of x_scale / (y_scale * N) only.
MIN_GLOBAL_POOL_SCALE = 2.0**-32
MAX_GLOBAL_POOL_SCALE = 256.0


def global_avgpool_scale(x_scale: float, y_scale: float, count: int) -> float:
    return float(np.float32(x_scale) / np.float32(np.float32(y_scale) * np.float32(count)))


def qlinear_global_avgpool(
    x: npt.ArrayLike,
    x_scale: float,
    x_zero_point: int,
    y_scale: float,
    y_zero_point: int,
    channels_last: bool = False,
) -> npt.NDArray[np.integer]:
    """com.microsoft QLinearGlobalAveragePool: exact int32 sum of (x - xzp) over the image, times
    f32(xs / f32(ys * N)) in float32, clamp, round half to even, add yzp (MLAS's rule)."""
    xi = np.asarray(x)
    spatial = tuple(range(1, xi.ndim - 1)) if channels_last else tuple(range(2, xi.ndim))
    count = int(np.prod([xi.shape[a] for a in spatial]))
    acc = (xi.astype(np.int64) - x_zero_point).sum(axis=spatial, keepdims=True)
    scale = global_avgpool_scale(x_scale, y_scale, count)
    info = np.iinfo(xi.dtype)
    f = (acc.astype(np.int32).astype(np.float32) * np.float32(scale)).astype(np.float32)
    f = np.clip(f, np.float32(info.min - y_zero_point), np.float32(info.max - y_zero_point))
    return np.asarray((rne(f).astype(np.int64) + y_zero_point).astype(xi.dtype))


def int_reduce(
    x: npt.ArrayLike, axes: tuple[int, ...], keepdims: bool, mean: bool
) -> npt.NDArray[np.int64]:
    """Deeploy's integer ReduceSum and ReduceMean (its Generic templates, ReduceSumTemplate.py
    and ReduceMeanTemplate.py): the exact int32 sum, and for the mean that sum over the count
    n rounded half away from zero, sgn(s) * ((|s| + n // 2) // n), which is what its C,
    (s + sgn(s) * (n >> 1)) / n, truncates to. Where n is a power of two Deeploy shifts
    instead, (s + n / 2) >> log2(n): half up, which differs for negative ties only."""
    total = np.asarray(np.asarray(x, dtype=np.int64).sum(axis=axes, keepdims=keepdims))
    if not mean:
        return total
    count = int(np.prod([np.shape(x)[a] for a in axes]))
    if count > 1 and count & (count - 1) == 0:
        return np.asarray((total + count // 2) >> (count.bit_length() - 1), np.int64)
    return np.asarray(np.sign(total) * ((np.abs(total) + count // 2) // count), np.int64)
