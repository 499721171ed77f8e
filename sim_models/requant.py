"""Requantization as the NPU computes it: integer arithmetic only.

`ort` mode reproduces onnxruntime's float32 rule (sim_models.quant.requantize) with integers:
the multiplier is split into a 24-bit mantissa and an exponent, f32(acc) becomes a rounding of
|acc| to 24 significant bits, the float32 product a 24x24-bit integer product rounded to 24
significant bits, and the final round half to even a rounding right shift. Clamping before or
after the last rounding gives the same integer, because the bounds are integers.

`shift` mode is Deeploy's RequantShift: clamp((acc * mul + add) >> shift), with the rounding
offset (div/2) and any zero point folded into `add` by the compiler.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

# |result| above this saturates whatever the bounds: outputs lie in [-128, 255] and zero points
# in [-128, 255], so a pre-zero-point value needs at most 10 bits.
SATURATE = 1 << 10


def split_float32(value: float) -> tuple[int, int]:
    """(mantissa, exponent) with float32(value) == mantissa * 2**exponent exactly, and the
    mantissa's leading one at bit 23 unless it is 0: a subnormal's exponent goes below -149
    instead. The NPU relies on it (its product of two such mantissas has its leading one at
    bit 46 or 47)."""
    bits = int(np.float32(value).view(np.uint32))
    biased = (bits >> 23) & 0xFF
    fraction = bits & 0x7FFFFF
    if bits >> 31 or biased == 0xFF:
        raise ValueError(f"multiplier {value} must be positive and finite")
    if biased == 0:
        if fraction == 0:
            return 0, -149  # zero: every product is 0, as the NPU computes it too
        below = 24 - fraction.bit_length()
        return fraction << below, -149 - below
    return fraction | 0x800000, biased - 150


def bit_length(values: I64) -> I64:
    """Position of the leading one plus one (0 for 0), for 0 <= values < 2^53."""
    _, exponent = np.frexp(values.astype(np.float64))
    return np.asarray(np.where(values == 0, 0, exponent), dtype=np.int64)


def shift_right_rne(values: I64, shift: I64) -> I64:
    """round(values / 2^shift), ties to even, for values >= 0 and shift >= 0."""
    sh = np.minimum(shift, 62)
    quotient = values >> sh
    remainder = values - (quotient << sh)
    half = np.where(sh > 0, np.left_shift(np.int64(1), np.maximum(sh - 1, 0)), 0)
    up = (sh > 0) & ((remainder > half) | ((remainder == half) & ((quotient & 1) == 1)))
    return np.asarray(quotient + up.astype(np.int64))


def requant_ort(
    acc: npt.ArrayLike,
    mantissa: npt.ArrayLike,
    exponent: npt.ArrayLike,
    zero_point: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
) -> I64:
    """The ort rule in integers; all arguments broadcast (per element or per channel)."""
    a = np.asarray(acc, dtype=np.int64)
    negative = a < 0
    magnitude = np.abs(a)
    # f32(acc): |acc| rounded to 24 significant bits.
    s = np.maximum(bit_length(magnitude) - 24, 0)
    ma = shift_right_rne(magnitude, s)
    # f32(f32(acc) * M): the exact 48-bit product rounded to 24 significant bits.
    product = ma * np.asarray(mantissa, dtype=np.int64)
    t = np.maximum(bit_length(product) - 24, 0)
    pm = shift_right_rne(product, t)
    scale = t + s + np.asarray(exponent, dtype=np.int64)
    # Round half to even to an integer, saturating far outside any output range.
    left = np.minimum(np.maximum(scale, 0), 11)
    big = np.where(pm > 0, pm << left, 0)
    rounded = np.where(scale >= 0, np.minimum(big, SATURATE), shift_right_rne(pm, -scale))
    rounded = np.minimum(rounded, SATURATE)
    signed = np.where(negative, -rounded, rounded)
    out = signed + np.asarray(zero_point, dtype=np.int64)
    return np.asarray(np.clip(out, lower, upper), dtype=np.int64)


def requant_shift(
    acc: npt.ArrayLike,
    mul: npt.ArrayLike,
    add: npt.ArrayLike,
    shift: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
) -> I64:
    """clamp((acc * mul + add) >> shift), arithmetic shift (floor), in exact integers."""
    a = np.asarray(acc, dtype=object)
    total = a * np.asarray(mul, dtype=object) + np.asarray(add, dtype=object)
    shifted = np.vectorize(lambda v, s: int(v) >> int(s), otypes=[object])(total, shift)
    clamped = np.minimum(np.maximum(shifted, np.asarray(lower)), np.asarray(upper))
    return np.asarray(clamped, dtype=np.int64)
