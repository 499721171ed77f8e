"""Turn a NEMO/DORY requantization chain (ARITH steps in float32 and int64, as onnxruntime
computes them) after a convolution or matrix product into the NPU's shift requantization,
clamp((acc * mul + add) >> shift), wherever the two are the same function of every accumulator
the layer can produce; the chain stays on the host elsewhere.

Each channel's chain is a non-decreasing step function of its accumulator (every step is
monotonic and the multipliers are not negative), and so is the shift rule. Two such functions
agree on a range exactly when they agree at its ends and take each level first at the same
accumulator. The chain's first accumulator for each level is found by bisection; the rule's
mul and add follow from those thresholds as the intersection of the intervals each threshold
allows (for a shift, the smallest that admits one); the result is checked at every threshold
and at both ends before it replaces the chain."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwgen.ir import (
    ArithAttrs,
    ArithKind,
    ArithStep,
    DType,
    Graph,
    LinearAttrs,
    Node,
    OpKind,
    OutputMode,
    QType,
    ShiftRequantAttrs,
)
from hwgen.passes.rewrite import rewrite, sole_reader
from hwgen.sim_models import arith

NAME = "synthesize_requant"

MUL_BITS = 32  # the NPU's shift-rule operands (npu/requant.py, SHIFT_PARAMS)
ADD_BITS = 48
MAX_SHIFT = ADD_BITS - 1 - 8  # beyond it an 8-bit level times 2^shift outgrows add

Array = npt.NDArray[np.int64]


def _chain(graph: Graph, source: Node) -> list[Node]:
    """The ARITH nodes after `source`, each the sole reader of the one before, up to the first
    whose result is an 8-bit integer."""
    readers = graph.consumers()
    chain: list[Node] = []
    tensor = source.outputs[0]
    while sole_reader(graph, tensor, readers):
        node = readers[tensor][0]
        if node.op is not OpKind.ARITH or len(node.inputs) != 1:
            return []
        chain.append(node)
        tensor = node.outputs[0]
        if graph.type_of(tensor).dtype in (DType.INT8, DType.UINT8):
            return chain
    return []


def _non_decreasing(chain: list[Node]) -> bool:
    for node in chain:
        assert isinstance(node.attrs, ArithAttrs)
        for step in node.attrs.steps:
            operand = None if step.operand is None else np.asarray(step.operand, np.float64)
            if step.kind in (ArithKind.MUL, ArithKind.DIV):
                if operand is None or np.any(operand < 0):
                    return False
                if step.kind is ArithKind.DIV and (step.operand_first or np.any(operand == 0)):
                    return False
            if step.kind is ArithKind.SUB and (operand is None or step.operand_first):
                return False
    return True


def _sum_range(graph: Graph, node: Node) -> tuple[Array, Array]:
    """Per output channel, the least and the greatest exact sum the layer can produce."""
    x = graph.type_of(node.inputs[0]).dtype
    w = graph.constants[node.inputs[1]].astype(np.int64)
    attrs = node.attrs
    if node.op is OpKind.MATMUL:
        assert hasattr(attrs, "trans_b")
        w = w if attrs.trans_b else w.T
    rows = w.reshape(w.shape[0], -1)
    top = np.where(rows > 0, rows * x.qmax, rows * x.qmin).sum(axis=1)
    bottom = np.where(rows > 0, rows * x.qmin, rows * x.qmax).sum(axis=1)
    if len(node.inputs) > 2:
        bias = graph.constants[node.inputs[2]].reshape(-1).astype(np.int64)
        top, bottom = top + bias, bottom + bias
    return bottom, top


def steps_of(chain: list[Node]) -> list[ArithStep]:
    steps: list[ArithStep] = []
    for node in chain:
        assert isinstance(node.attrs, ArithAttrs)
        steps.extend(node.attrs.steps)
    return steps


def _evaluate(chain: list[Node], out: DType, acc: Array) -> Array:
    """The chain on accumulators shaped [1, channels, n] (channel operands along axis 1)."""
    return arith.run([acc], steps_of(chain), out).astype(np.int64)


def _thresholds(chain: list[Node], out: DType, lo: Array, hi: Array) -> Array:
    """[channels, levels]: the least accumulator in [lo, hi] at which the chain reaches each
    level above out.qmin, or hi + 1 where it never does."""
    levels = np.arange(out.qmin + 1, out.qmax + 1, dtype=np.int64)[None, :]
    left = np.repeat(lo[:, None], levels.size, axis=1)
    right = np.repeat(hi[:, None] + 1, levels.size, axis=1)
    while np.any(left < right):
        mid = (left + right) // 2
        reached = _evaluate(chain, out, mid[None])[0] >= levels
        right = np.where(reached, mid, right)
        left = np.where(reached, left, mid + 1)
    return left


def _pairs(thresholds: Array, lo: int, hi: int, levels: Array) -> tuple[Array, Array, Array, Array]:
    inside = (thresholds > lo) & (thresholds <= hi)
    t, at = levels[inside], thresholds[inside]
    di = t[:, None] - t[None, :]
    dt = at[:, None] - at[None, :]
    return t, at, di, dt


def _mul_fits(di: Array, dt: Array, shift: int) -> int | None:
    """The least mul for which clamp((acc * mul + add) >> shift) can first reach each level t
    at its threshold `at`, for some add; None if none can. Level t first at `at` means
    mul * (at - 1) < t * 2^s - add <= mul * at: add lies in [max g, min g + mul) with
    g = t * 2^s - mul * at, which needs (t_i - t_j) 2^s < mul (at_i - at_j + 1) and, where
    at_i - at_j > 1, mul (at_i - at_j - 1) < (t_i - t_j) 2^s for each pair of levels."""
    scale = 1 << shift
    pairs = di > 0
    # Pairs of levels in order only (di > 0); the others' quotients are masked, not taken.
    low = int(np.max(np.where(pairs, (di * scale) // np.maximum(dt + 1, 1) + 1, 1), initial=1))
    capped = pairs & (dt > 1)
    if np.any(capped):
        caps = -(-(di * scale) // np.where(capped, dt - 1, 1)) - 1
        if low > int(np.min(caps[capped])):
            return None
    return low


def _least_rule(t: Array, at: Array, di: Array, dt: Array) -> tuple[int, int, int] | None:
    """mul, add and shift of the least shift that has a rule: a rule at shift s gives one at
    s + 1 (mul and add doubled), so that shift is found by bisection."""
    if _mul_fits(di, dt, MAX_SHIFT) is None:
        return None
    low, high = 0, MAX_SHIFT
    while low < high:
        mid = (low + high) // 2
        if _mul_fits(di, dt, mid) is None:
            low = mid + 1
        else:
            high = mid
    mul = _mul_fits(di, dt, low)
    assert mul is not None
    if mul >= 1 << (MUL_BITS - 1) or float(mul) * float(np.abs(at).max()) >= 2.0**62:
        return None  # wider than the NPU's operands
    g = t * (1 << low) - mul * at
    return mul, int(g.max()), low


def _shift_rule(values: Array, mul: Array, add: Array, shift: int, out: DType) -> Array:
    return np.asarray(np.clip((values * mul[:, None] + add[:, None]) >> shift, out.qmin, out.qmax))


def synthesize(
    chain: list[Node], out: DType, lo: Array, hi: Array
) -> tuple[Array, Array, int] | None:
    """Per channel mul and add, and one shift, for which the shift rule equals the chain on
    every accumulator in [lo, hi]; None where no rule within the NPU's widths does."""
    thresholds = _thresholds(chain, out, lo, hi)
    levels = np.arange(out.qmin + 1, out.qmax + 1, dtype=np.int64)
    at_lo = _evaluate(chain, out, lo[None, :, None])[0, :, 0]
    found: list[tuple[int, int, int]] = []
    for c in range(lo.size):
        t, at, di, dt = _pairs(thresholds[c], int(lo[c]), int(hi[c]), levels)
        if t.size == 0:  # constant over the range: no threshold inside it
            found.append((0, int(at_lo[c]), 0))
            continue
        rule = _least_rule(t, at, di, dt)
        if rule is None:
            return None
        found.append(rule)
    shift = max(s for _, _, s in found)
    mul = np.array([m << (shift - s) for m, _, s in found], np.int64)
    add = np.array([a << (shift - s) for _, a, s in found], np.int64)
    if np.any(np.abs(mul) >= 1 << (MUL_BITS - 1)) or np.any(np.abs(add) >= 1 << (ADD_BITS - 1)):
        return None
    probes = np.concatenate(
        [
            lo[:, None],
            hi[:, None],
            np.clip(thresholds, lo[:, None], hi[:, None]),
            np.clip(thresholds - 1, lo[:, None], hi[:, None]),
        ],
        axis=1,
    )
    want = _evaluate(chain, out, probes[None])[0]
    if not np.array_equal(_shift_rule(probes, mul, add, shift, out), want):
        return None
    return mul, add, shift


def synthesize_one(graph: Graph, done: set[str]) -> bool:
    for node in graph.nodes:
        if node.op not in (OpKind.CONV, OpKind.MATMUL) or node.name in done:
            continue
        done.add(node.name)
        attrs = node.attrs
        if not isinstance(attrs, LinearAttrs) or attrs.output.mode is not OutputMode.INT32:
            continue
        if graph.type_of(node.inputs[0]).dtype not in (DType.INT8, DType.UINT8):
            continue
        if not graph.is_constant(node.inputs[1]):
            continue
        chain = _chain(graph, node)
        if not chain or not _non_decreasing(chain):
            continue
        out = graph.type_of(chain[-1].outputs[0])
        lo, hi = _sum_range(graph, node)
        rule = synthesize(chain, out.dtype, lo, hi)
        if rule is None:
            continue
        mul, add, shift = rule
        requant = Node(
            chain[0].name,
            OpKind.REQUANT_SHIFT,
            (node.outputs[0],),
            chain[-1].outputs,
            ShiftRequantAttrs(mul, add, shift, out.dtype.qmin, out.dtype.qmax, axis=1),
            tuple(o for n in chain for o in n.origin),
        )
        for n in chain[:-1]:
            del graph.tensors[n.outputs[0]]
        at = graph.nodes.index(chain[0])
        gone = {id(n) for n in chain}
        graph.nodes = [n for n in graph.nodes if id(n) not in gone]
        graph.nodes.insert(at, requant)
        graph.tensors[chain[-1].outputs[0]] = QType(out.dtype, out.shape)
        return True
    return False


def apply(graph: Graph) -> Graph:
    done: set[str] = set()
    return rewrite(graph, lambda g: synthesize_one(g, done))
