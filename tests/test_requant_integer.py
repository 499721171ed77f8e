"""The NPU's integer requantization equals onnxruntime's float32 rule, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwgen.sim_models.quant import requantize
from hwgen.sim_models.requant import requant_ort, requant_shift, split_float32

DTYPES = [np.int8, np.uint8]


def _float_rule(acc: np.ndarray, multiplier: np.float32, zp: int, dtype: type) -> np.ndarray:
    return requantize(acc.astype(np.int32), np.float32(multiplier), zp, dtype).astype(np.int64)


def _integer_rule(acc: np.ndarray, multiplier: np.float32, zp: int, dtype: type) -> np.ndarray:
    mantissa, exponent = split_float32(float(multiplier))
    info = np.iinfo(dtype)
    return requant_ort(acc, mantissa, exponent, zp, int(info.min), int(info.max))


@st.composite
def accumulators(draw: st.DrawFn) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["full", "around_2_24", "small", "extremes"]))
    if kind == "full":
        values = rng.integers(-(2**31), 2**31, size=512)
    elif kind == "around_2_24":  # where f32(acc) starts to round
        values = rng.integers(2**24 - 64, 2**26, size=512) * rng.choice([-1, 1], size=512)
    elif kind == "small":
        values = rng.integers(-5000, 5000, size=512)
    else:
        values = np.array(
            [-(2**31), 2**31 - 1, 0, 1, -1, 2**24, 2**24 + 1, 2**24 + 3, -(2**25) - 1]
        )
    return np.asarray(values, dtype=np.int64)


multipliers = st.one_of(
    st.floats(2.0**-40, 1024.0, width=32).map(np.float32),
    st.integers(-40, 4).map(lambda e: np.float32(2.0**e)),  # exact ties
    st.integers(-149, -127).map(lambda e: np.float32(2.0**e)),  # subnormal multipliers
)


@settings(max_examples=300, deadline=None)
@given(accumulators(), multipliers, st.sampled_from(DTYPES), st.data())
def test_integer_ort_rule_equals_float_rule(
    acc: np.ndarray, multiplier: np.float32, dtype: type, data: st.DataObject
) -> None:
    info = np.iinfo(dtype)
    zp = data.draw(st.integers(int(info.min), int(info.max)))
    want = _float_rule(acc, multiplier, zp, dtype)
    got = _integer_rule(acc, multiplier, zp, dtype)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"acc={acc[bad[0]]} M={multiplier!r} zp={zp}: float {want[bad[0]]}, integer {got[bad[0]]}"
    )


def test_every_tie_rounds_to_even() -> None:
    acc = np.arange(-1001, 1002, dtype=np.int64)
    for dtype in DTYPES:
        np.testing.assert_array_equal(
            _integer_rule(acc, np.float32(0.5), 0, dtype),
            _float_rule(acc, np.float32(0.5), 0, dtype),
        )


@pytest.mark.parametrize("value", [1.0, 0.75, 2.0**-130, 3.4e38, 1e-45])
def test_split_float32_is_exact(value: float) -> None:
    mantissa, exponent = split_float32(value)
    assert mantissa * 2.0**exponent == float(np.float32(value))
    assert mantissa >> 23 == 1, "the leading one at bit 23, subnormals too"


def test_split_float32_refuses_non_positive() -> None:
    with pytest.raises(ValueError, match="positive and finite"):
        split_float32(-1.0)


def test_shift_rule_is_floor_division() -> None:
    rng = np.random.default_rng(0)
    acc = rng.integers(-(2**31), 2**31, size=2000)
    mul = rng.integers(-(2**15), 2**15, size=2000)
    add = rng.integers(-(2**40), 2**40, size=2000)
    shift = rng.integers(0, 40, size=2000)
    got = requant_shift(acc, mul, add, shift, -128, 127)
    # Independent: Python's exact integers and floor division by the power of two.
    want = [
        max(-128, min(127, (int(a) * int(m) + int(d)) // (1 << int(s))))
        for a, m, d, s in zip(acc, mul, add, shift, strict=True)
    ]
    np.testing.assert_array_equal(got, want)
