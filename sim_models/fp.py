"""Float32 arithmetic with onnxruntime's exact rounding, including single-rounding fma."""

from __future__ import annotations

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
