"""Quantize, dequantize and the float32 requantization rule shared by conv, matmul and gemm."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen.sim_models.fp import rne

IntArray = npt.NDArray[np.integer]


def _limits(dtype: npt.DTypeLike) -> tuple[int, int]:
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def channel_view(values: npt.ArrayLike, ndim: int, axis: int | None) -> npt.NDArray[Any]:
    """Shape per-tensor (size 1) or per-channel parameters to broadcast along `axis`."""
    arr = np.asarray(values).reshape(-1)
    if arr.size == 1 or axis is None:
        return arr.reshape(())
    shape = [1] * ndim
    shape[axis % ndim] = arr.size
    return arr.reshape(shape)


def quantize_linear(
    x: npt.ArrayLike,
    scale: npt.ArrayLike,
    zero_point: npt.ArrayLike,
    dtype: npt.DTypeLike,
    axis: int | None = None,
) -> IntArray:
    """QuantizeLinear: a true float32 division by the scale, clamp, round half to even, add zp.
    NaN becomes the type's lowest value, as onnxruntime's MLAS kernels make it; ±inf saturate."""
    xf = np.asarray(x, dtype=np.float32)
    s = channel_view(np.asarray(scale, dtype=np.float32), xf.ndim, axis)
    zp = channel_view(np.asarray(zero_point, dtype=np.int64), xf.ndim, axis)
    lo, hi = _limits(dtype)
    scaled = (xf / s).astype(np.float32)
    low = (lo - zp).astype(np.float32)
    clamped = np.clip(np.where(np.isnan(scaled), low, scaled), low, (hi - zp).astype(np.float32))
    return np.asarray((rne(clamped).astype(np.int64) + zp).astype(np.dtype(dtype)))


def dequantize_linear(
    q: npt.ArrayLike,
    scale: npt.ArrayLike,
    zero_point: npt.ArrayLike,
    axis: int | None = None,
) -> npt.NDArray[np.float32]:
    """DequantizeLinear: float32(q - zp) * scale."""
    qi = np.asarray(q).astype(np.int64)
    s = channel_view(np.asarray(scale, dtype=np.float32), qi.ndim, axis)
    zp = channel_view(np.asarray(zero_point, dtype=np.int64), qi.ndim, axis)
    return np.asarray((qi - zp).astype(np.float32) * s, dtype=np.float32)


def requant_multiplier(
    x_scale: float, w_scale: npt.ArrayLike, y_scale: float, alpha: float = 1.0
) -> npt.NDArray[np.float32]:
    """The float32 multiplier of QLinearConv / QLinearMatMul / QGemm: f32(f32(xs*ws)/ys).

    With QGemm's alpha it multiplies first: f32(f32(f32(alpha*xs)*ws)/ys).
    """
    ws = np.asarray(w_scale, dtype=np.float32).reshape(-1)
    xs = np.float32(x_scale)
    if alpha != 1.0:
        xs = np.float32(np.float32(alpha) * xs)
    return np.asarray((xs * ws).astype(np.float32) / np.float32(y_scale), dtype=np.float32)


def requantize(
    acc: npt.ArrayLike,
    multiplier: npt.ArrayLike,
    zero_point: int,
    dtype: npt.DTypeLike,
) -> IntArray:
    """int32 accumulator -> quantized output by onnxruntime's float32 rule.

    f = f32(acc) * M in float32 (f32(acc) rounds above 2^24, and that is part of the rule); clamp
    to [qmin - zp, qmax - zp]; round half to even; add zp. `multiplier` must already broadcast
    against `acc`.
    """
    lo, hi = _limits(dtype)
    accf = np.asarray(acc).astype(np.int32).astype(np.float32)
    f = (accf * np.asarray(multiplier, dtype=np.float32)).astype(np.float32)
    f = np.clip(f, np.float32(lo - zero_point), np.float32(hi - zero_point))
    return (rne(f).astype(np.int64) + zero_point).astype(np.dtype(dtype))


def wrap_int32(values: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """int32 accumulation wraps modulo 2^32, as onnxruntime's int32 adds do."""
    return np.asarray(np.asarray(values, dtype=np.int64).astype(np.int32))
