"""NEMO/DORY's element-wise arithmetic (hwgen.ir.ArithAttrs): each ONNX op replayed in the type
onnxruntime computes it in. A float32 Mul of a large accumulator rounds, a Cast of a float to
int64 truncates, an int64 Div truncates toward zero: the chain's integers are onnxruntime's
only if every step is taken as it takes it.

`image` carries a range of values through the same steps: every step is monotonic in each
input, so the image of an interval is found at its ends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hwgen.ir import ArithKind, ArithStep, DType
from hwgen.sim_models import fp

Array = npt.NDArray[np.generic]


def _operand(step: ArithStep, rank: int) -> Array:
    """A constant per channel (axis 1) shaped to broadcast over a tensor of `rank` axes."""
    assert step.operand is not None
    value = np.asarray(step.operand, step.container.numpy)
    if value.size == 1 or rank < 2:
        return value.reshape(-1)[0] if value.size == 1 else value
    return value.reshape((1, -1) + (1,) * (rank - 2))


def _divide(a: Array, b: Array, container: DType) -> Array:
    if container is DType.FLOAT32:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.divide(a, b), np.float32)
    a64, b64 = np.asarray(a, np.int64), np.asarray(b, np.int64)
    quotient = a64 // b64
    inexact = (quotient * b64 != a64) & ((a64 < 0) != (b64 < 0))
    return np.asarray(quotient + inexact, np.int64)


def step(x: Array, s: ArithStep, other: Array | None = None) -> Array:
    """One step on `x` (already of any exact type); `other` is the second input."""
    kind, container = s.kind, s.container
    if kind is ArithKind.CAST:  # NumPy's float-to-integer conversion truncates, as C's
        return np.asarray(x).astype(container.numpy)
    value = np.asarray(x).astype(container.numpy)
    if kind in (ArithKind.FLOOR, ArithKind.CEIL, ArithKind.ROUND):
        fn = {ArithKind.FLOOR: np.floor, ArithKind.CEIL: np.ceil, ArithKind.ROUND: np.rint}[kind]
        return np.asarray(fn(value), container.numpy)
    if kind is ArithKind.SIGMOID:
        return fp.logistic(value)
    if kind is ArithKind.CLIP:
        assert s.operand is not None
        lower, upper = np.asarray(s.operand, container.numpy).reshape(-1)
        return np.asarray(np.minimum(np.maximum(value, lower), upper))
    operand = (
        np.asarray(other).astype(container.numpy) if s.operand is None else _operand(s, value.ndim)
    )
    a, b = (operand, value) if s.operand_first else (value, operand)
    if kind is ArithKind.MUL:
        result = np.multiply(a, b)
    elif kind is ArithKind.ADD:
        result = np.add(a, b)
    elif kind is ArithKind.SUB:
        result = np.subtract(a, b)
    else:
        result = _divide(a, b, container)
    return np.asarray(result, container.numpy)


def run(inputs: Sequence[Array], steps: Sequence[ArithStep], out: DType) -> Array:
    """The chain on its inputs, its result in the IR type `out` (exact: the lowering chose it
    from the result's range)."""
    value: Array = np.asarray(inputs[0])
    for s in steps:
        value = step(value, s, inputs[1] if len(inputs) > 1 else None)
    return np.asarray(value).astype(out.numpy)


def image(
    ranges: Sequence[tuple[float, float]], s: ArithStep, channels: int
) -> tuple[float, float]:
    """The range of one step's result for inputs in `ranges` (one per input), over every
    channel of a per-channel operand."""
    ends = [np.array([lo, hi], np.float64) for lo, hi in ranges]
    first = np.repeat(ends[0], max(channels, 1)).reshape(2, -1)
    if s.operand is None and len(ends) > 1:  # both ends of either input
        a, b = np.meshgrid(ends[0], ends[1])
        values = step(a.reshape(-1).astype(np.float64), s, b.reshape(-1))
    else:
        values = step(np.asarray(first, s.container.numpy), s)
    values = np.asarray(values, np.float64)
    return float(values.min()), float(values.max())
