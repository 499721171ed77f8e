"""Element-wise integer ops: quantized add and clamp."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwgen.sim_models.fp import fma_f32, rne


def qlinear_add(
    a: npt.ArrayLike,
    a_scale: float,
    a_zero_point: int,
    b: npt.ArrayLike,
    b_scale: float,
    b_zero_point: int,
    y_scale: float,
    y_zero_point: int,
    dtype: npt.DTypeLike,
) -> npt.NDArray[np.integer]:
    """com.microsoft QLinearAdd with MLAS's single-rounding fused multiply-adds:

    Rac = f32(sa/sc), Rbc = f32(sb/sc), K = f32(zc) - fma(Rac, za, f32(Rbc*zb)),
    y = rne(fma(a, Rac, fma(b, Rbc, K))), saturated. Broadcasts like numpy.
    """
    f32 = np.float32
    rac = f32(f32(a_scale) / f32(y_scale))
    rbc = f32(f32(b_scale) / f32(y_scale))
    k = f32(f32(y_zero_point) - fma_f32(rac, f32(a_zero_point), f32(rbc * f32(b_zero_point))))
    af = np.asarray(a).astype(np.float32)
    bf = np.asarray(b).astype(np.float32)
    y = fma_f32(af, rac, fma_f32(bf, rbc, k))
    info = np.iinfo(np.dtype(dtype))
    return np.asarray(np.clip(rne(y), info.min, info.max).astype(np.dtype(dtype)))


def clamp(x: npt.ArrayLike, lower: int, upper: int) -> npt.NDArray[np.integer]:
    """Clip / Relu on raw integers (ONNX applies them to the stored values, not real values)."""
    xi = np.asarray(x)
    return np.asarray(np.minimum(np.maximum(xi, lower), upper).astype(xi.dtype))


def lookup(
    x: npt.ArrayLike, table: npt.ArrayLike, qmin: int, dtype: npt.DTypeLike
) -> npt.NDArray[np.integer]:
    """Each 8-bit value through its entry of a 256-entry table (onnxruntime's lookup-table
    kernels: QLinearConcat's requantization, QLinearSigmoid, QLinearLeakyRelu)."""
    index = np.asarray(x, dtype=np.int64) - qmin
    return np.asarray(np.asarray(table)[index].astype(dtype))


def qlinear_mul(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    a_zp: int,
    b_zp: int,
    ratio: float,
    y_zp: int,
    dtype: npt.DTypeLike,
) -> npt.NDArray[np.integer]:
    """com.microsoft QLinearMul as MLAS computes it on x86 (lib/qlmul.cpp, SSE2): p = (a - za)
    * (b - zb) exactly; v = f32(f32(f32(p) * ratio) + f32(zc)); cvtps rounds half to even and
    gives INT32_MIN outside int32; the packs saturate to the type. NumPy broadcasting."""
    p = (np.asarray(a, np.int64) - a_zp) * (np.asarray(b, np.int64) - b_zp)
    v = (p.astype(np.float32) * np.float32(ratio)).astype(np.float32) + np.float32(y_zp)
    fits = (v >= np.float32(-(2.0**31))) & (v < np.float32(2.0**31))
    rounded = np.rint(np.where(fits, v, 0)).astype(np.int64)
    r = np.where(fits, rounded, -(2**31))
    info = np.iinfo(np.dtype(dtype))
    return np.asarray(np.clip(r, info.min, info.max).astype(dtype))


def int_hardswish(
    x: npt.ArrayLike, three: int, six: int, one_over_six: int
) -> npt.NDArray[np.int32]:
    """Deeploy's iHardswish (TargetLibraries/Generic/src/Hardswish_s8.c, signed input):
    x * (clamp(x + three, 0, six) * one_over_six), in int32 as its C computes it."""
    xi = np.asarray(x, dtype=np.int64)
    gate = np.clip(xi + three, 0, six) * one_over_six
    return np.asarray((xi * gate).astype(np.int32))
