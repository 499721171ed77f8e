"""Element-wise integer ops: quantized add and clamp."""

from __future__ import annotations

import math

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


def softmax_table(x_scale: float, reduce_len: int, signed: bool) -> npt.NDArray[np.float32]:
    """onnxruntime's QLinearSoftmax table (QlinearBuildLookupTableUint32): the shift keeps the
    float32 sum of a row below float32's largest; exp in double, by the C library as there.
    The shift's log is taken of a float, so in float (C++'s std::log(float)): its double
    would move the row's largest entry an ulp, and a ratio on a tie to the other side."""
    fmax = np.float32(np.finfo(np.float32).max)
    shift = float(np.float32(math.log(float(np.float32(fmax / np.float32(reduce_len))))))
    shift = max(0.0, shift - 5.0) / float(np.float32(x_scale))
    table = np.zeros(256, np.float32)
    for i in range(256):
        index = (i - 128) & 0xFF if signed else i
        table[index] = np.float32(math.exp((i - 255.0 + shift) * float(np.float32(x_scale))))
    return table


def qlinear_softmax(
    x: npt.ArrayLike, table: npt.ArrayLike, scale: float, y_zp: int
) -> npt.NDArray[np.integer]:
    """QLinearSoftmax over the last axis, as onnxruntime's kernel computes it: each row shifted
    so that its largest value reads table entry 255 (signed: index (127 - max + x) mod 256), the
    entries summed in float32 in order, rne(f32(entry * scale) / sum) + zp, saturated to the
    type's largest value (entries are positive: never below zp)."""
    xi = np.asarray(x)
    signed = xi.dtype == np.int8
    values = xi.astype(np.int64)
    top = values.max(axis=-1, keepdims=True)
    index = ((127 - top) + values) & 0xFF if signed else values + 255 - top
    entries = np.asarray(table, np.float32)[index]
    total = np.zeros(entries.shape[:-1], np.float32)
    for j in range(entries.shape[-1]):  # in order, as the kernel adds
        total = (total + entries[..., j]).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # a short row's entries overflow
        v = ((entries * np.float32(scale)).astype(np.float32) / total[..., None]).astype(np.float32)
    # x86 converts a float that does not fit to the most negative integer: int32 for int8 (its
    # low byte 0), int64 for uint8 (the kernel's uint32 cast goes through it; low word 0). The
    # kernel then adds zp in 32 bits and saturates the top only.
    bits = 31 if signed else 63
    fits = np.isfinite(v) & (v >= -(2.0**bits)) & (v < 2.0**bits)
    whole = np.where(fits, np.rint(np.where(fits, v, 0)), 0).astype(np.int64)
    whole = np.where(fits, whole, -(2**31) if signed else 0)
    if signed:
        q = np.minimum((whole + y_zp + 2**31) % 2**32 - 2**31, 127)
    else:
        q = (whole + y_zp) % 2**32
        q = np.where(q > 255, 255, q)
    return np.asarray((q & 0xFF).astype(np.uint8).view(xi.dtype))


def int_hardswish(
    x: npt.ArrayLike, three: int, six: int, one_over_six: int
) -> npt.NDArray[np.int32]:
    """Deeploy's iHardswish (TargetLibraries/Generic/src/Hardswish_s8.c, signed input):
    x * (clamp(x + three, 0, six) * one_over_six), in int32 as its C computes it."""
    xi = np.asarray(x, dtype=np.int64)
    gate = np.clip(xi + three, 0, six) * one_over_six
    return np.asarray((xi * gate).astype(np.int32))
