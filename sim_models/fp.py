"""Float32 arithmetic with onnxruntime's exact rounding, including single-rounding fma."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def fma_f32(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike) -> F32:
    """Correctly rounded float32 a*b + c, as C's fmaf.

    The float32 product is exact in float64. The float64 sum is made round-to-odd (its last bit
    records whether anything was lost), which makes the final rounding to float32 correct: a
    float64 has more than 24 + 2 bits of significand.
    """
    a64 = np.asarray(a, dtype=np.float32).astype(np.float64)
    b64 = np.asarray(b, dtype=np.float32).astype(np.float64)
    c64 = np.asarray(c, dtype=np.float32).astype(np.float64)
    p = a64 * b64
    s = p + c64
    # TwoSum: s + err == p + c exactly.
    bp = s - c64
    err = (p - bp) + (c64 - (s - bp))
    bits = s.view(np.int64)
    inexact = (err != 0) & np.isfinite(s)
    even = (bits & 1) == 0
    fix = inexact & even
    toward = np.where(err > 0, np.inf, -np.inf)
    s = np.where(fix, np.nextafter(s, toward), s)
    return np.asarray(s.astype(np.float32))


def rne(x: npt.ArrayLike) -> F32:
    """Round half to even, as the SSE conversion onnxruntime uses."""
    return np.asarray(np.rint(np.asarray(x, dtype=np.float32)), dtype=np.float32)


# MLAS's logistic (onnxruntime/core/mlas/lib/logistic.cpp): Eigen's rational polynomial.
_LOGISTIC = {
    name: np.float32(value)
    for name, value in (
        ("lower", "-18.0"),
        ("upper", "18.0"),
        ("alpha_9", "4.37031012579801e-11"),
        ("alpha_7", "1.15627324459942e-07"),
        ("alpha_5", "6.08574864600143e-05"),
        ("alpha_3", "8.51377133304701e-03"),
        ("alpha_1", "2.48287947061529e-01"),
        ("beta_10", "6.10247389755681e-13"),
        ("beta_8", "5.76102136993427e-09"),
        ("beta_6", "6.29106785017040e-06"),
        ("beta_4", "1.70198817374094e-03"),
        ("beta_2", "1.16817656904453e-01"),
        ("beta_0", "9.93151921023180e-01"),
    )
}


def logistic(x: npt.ArrayLike) -> F32:
    """onnxruntime's float Sigmoid as its x86 kernel for AVX2 machines computes it
    (mlas/lib/x86_64/LogisticKernelFma3.S): the input clamped to [-18, 18], both polynomials in
    x^2 by fused multiply-adds, p * x / q + 0.5, then floored at 0."""
    k = _LOGISTIC
    v = np.minimum(np.maximum(np.asarray(x, np.float32), k["lower"]), k["upper"])
    v2 = np.asarray(v * v, np.float32)
    p = fma_f32(v2, k["alpha_9"], k["alpha_7"])
    for name in ("alpha_5", "alpha_3", "alpha_1"):
        p = fma_f32(v2, p, k[name])
    q = fma_f32(v2, k["beta_10"], k["beta_8"])
    for name in ("beta_6", "beta_4", "beta_2", "beta_0"):
        q = fma_f32(v2, q, k[name])
    p = np.asarray(v * p, np.float32)
    ratio = np.asarray(p / q, np.float32)
    return np.asarray(np.maximum(np.asarray(ratio + np.float32(0.5), np.float32), np.float32(0)))


# MLAS's exp (mlas/lib/compute.cpp, MlasExpConstants), as its AVX512F kernel computes it.
_EXP_LOWER = np.float32("-103.9720840454")
_EXP_BIAS = np.float32(12582912.0)  # 1.5 * 2^23: adding it rounds to an integer
_LOG2_RECIPROCAL = np.float32("1.44269504088896341")
_LOG2_HIGH = np.float32("-6.93145752e-1")
_LOG2_LOW = np.float32("-1.42860677e-6")
_EXP_POLY = [
    np.float32(float.fromhex(h))
    for h in (
        "0x1.694000p-10",
        "0x1.125edcp-7",
        "0x1.555b5ap-5",
        "0x1.555450p-3",
        "0x1.fffff6p-2",
        "0x1.000000p+0",
        "0x1.000000p+0",
    )
]
LANES = 16  # one AVX512 register of float32


def _exp_biased(x: F32, negative_maximum: np.float32) -> F32:
    """exp(x - max) as MlasComputeSumExpF32KernelAvx512F computes each element."""
    v = np.maximum(_EXP_LOWER, np.asarray(x + negative_maximum, np.float32))
    m = np.asarray(fma_f32(v, _LOG2_RECIPROCAL, _EXP_BIAS) - _EXP_BIAS, np.float32)
    v = fma_f32(m, _LOG2_HIGH, v)
    v = fma_f32(m, _LOG2_LOW, v)
    p = np.full_like(v, _EXP_POLY[0])
    for c in _EXP_POLY[1:]:
        p = fma_f32(v, p, c)
    return np.asarray(np.ldexp(p, m.astype(np.int32)), np.float32)


def _lane_sum(e: F32) -> np.float32:
    """The kernel's sum: element i into lane i mod 16, in order; then the lanes folded as its
    reduction folds them (upper half onto lower, two horizontal adds, the two 128-bit halves)."""
    lanes = np.zeros(LANES, np.float32)
    for start in range(0, e.size, LANES):
        block = e[start : start + LANES]
        lanes[: block.size] = np.asarray(lanes[: block.size] + block, np.float32)
    a = np.asarray(lanes[:8] + lanes[8:], np.float32)
    h1 = np.asarray([a[0] + a[1], a[2] + a[3], a[4] + a[5], a[6] + a[7]], np.float32)
    low, high = np.float32(h1[0] + h1[1]), np.float32(h1[2] + h1[3])
    return np.float32(low + high)


def softmax_rows(x: npt.ArrayLike, log: bool) -> F32:
    """onnxruntime's float Softmax / LogSoftmax over the last axis of a [rows, D] array
    (mlas/lib/compute.cpp, MlasComputeSoftmaxThreaded) on x86 with AVX512F: the row's maximum,
    the sum of MLAS's exp, then x - max - logf(sum), or exp * (1 / sum)."""
    rows = np.asarray(x, np.float32)
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        negative_maximum = np.float32(-row.max())
        e = _exp_biased(row, negative_maximum)
        total = _lane_sum(e)
        if log:
            logarithm = c_logf(total)
            out[r] = np.asarray(
                np.asarray(row + negative_maximum, np.float32) - logarithm, np.float32
            )
        else:
            out[r] = np.asarray(e * np.float32(np.float32(1.0) / total), np.float32)
    return out


def c_logf(value: np.float32) -> np.float32:
    """The C library's logf, which onnxruntime's std::log(float) calls."""
    return np.float32(_libm().logf(ctypes.c_float(float(value))))


@functools.cache
def _libm() -> ctypes.CDLL:
    library = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    library.logf.restype = ctypes.c_float
    library.logf.argtypes = [ctypes.c_float]
    return library
