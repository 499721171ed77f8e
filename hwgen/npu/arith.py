"""Combinational building blocks shared by the NPU's datapaths."""

from __future__ import annotations

from collections.abc import Callable

from amaranth import Cat, Const, Module, Mux, Shape, Signal, Value
from amaranth.lib import stream


def leading_zeros(
    m: Module,
    value: Value,
    name: str,
    cut: Callable[[Value, str], Value] | None = None,
    group: int = 8,
) -> Signal:
    """Zeros above the leading one (len(value) for 0): a priority encoder built as a tree, so
    its depth grows with log2 of the width (a chain of priorities was the iCEBreaker's
    critical path at 32 bits: ten logic levels). `cut`, given, is a pipeline register (value,
    name -> registered value) between the counts of `group`-bit slices and the rest of the
    tree: the whole tree was six logic levels, still too many for the iCEBreaker's 40 MHz."""
    width = len(value)
    size = max(2, 1 << (width - 1).bit_length())  # the power of two at or above the width
    # Ones below the value fill it out: they never come before a one of the value, and they
    # stop the count at `width` for 0.
    padded = Cat(Const((1 << (size - width)) - 1, size - width), value)
    slices = 0

    def count(bits: Value) -> tuple[Value, Value]:
        """(zeros above the leading one, whether all are zero) of a power-of-two slice."""
        nonlocal slices
        if len(bits) == 2:
            zeros, all_zero = ~bits[1], ~bits.any()
        else:
            half = len(bits) // 2
            high, high_zero = count(bits[half:])
            low, low_zero = count(bits[:half])
            zeros, all_zero = Mux(high_zero, Cat(low, 1), Cat(high, 0)), high_zero & low_zero
        if cut is not None and len(bits) == group < size:
            kept = cut(Cat(zeros, all_zero), f"{name}_slice{slices}")
            slices += 1
            return kept[:-1], kept[-1]
        return zeros, all_zero

    zeros, all_zero = count(padded)
    result = Signal(range(width + 1), name=name)
    m.d.comb += result.eq(Mux(all_zero, width, zeros))
    return result


def adder_tree_level(m: Module, terms: list[Value], shape: Shape, name: str) -> list[Value]:
    """One level of a balanced adder tree: pairs summed, combinational; an odd last term is
    passed on."""
    paired: list[Value] = []
    for k in range(0, len(terms) - 1, 2):
        pair_sum = Signal(shape, name=f"{name}_{k // 2}")
        m.d.comb += pair_sum.eq(terms[k] + terms[k + 1])
        paired.append(pair_sum)
    if len(terms) % 2:
        paired.append(terms[-1])
    return paired


def adder_tree(m: Module, terms: list[Value], shape: Shape, name: str) -> Value:
    """The sum of `terms` through levels of adder_tree_level."""
    level = 0
    while len(terms) > 1:
        terms = adder_tree_level(m, terms, shape, f"{name}_l{level}")
        level += 1
    return terms[0]


def carry_save_sum(m: Module, terms: list[Value], shape: Shape, name: str) -> Value:
    """The sum of `terms` (modulo 2^width of `shape`) with one carry chain: 3:2 compressors
    (a sum and a majority bit per position, one logic cell each) take three terms to two
    until two are left. On an iCE40 two carry chains in a row, as an adder tree of three terms
    makes, were the critical path; the compressors cost one cell per bit."""
    width = Shape.cast(shape).width
    vectors: list[Value] = []
    for k, term in enumerate(terms):
        extended = Signal(shape, name=f"{name}_in{k}")
        m.d.comb += extended.eq(term)
        vectors.append(extended.as_unsigned())
    level = 0
    while len(vectors) > 2:
        x, y, z, *rest = vectors
        # Kept: yosys would otherwise fold them into one multi-operand adder of logic cells
        # (on an iCE40, half again as many as carry chains of their own).
        total = Signal(width, name=f"{name}_s{level}", attrs={"keep": 1})
        carry = Signal(width, name=f"{name}_c{level}", attrs={"keep": 1})
        m.d.comb += [total.eq(x ^ y ^ z), carry.eq(((x & y) | (x & z) | (y & z)) << 1)]
        vectors = [*rest, total, carry]
        level += 1
    result = Signal(shape, name=name)
    m.d.comb += result.eq(vectors[0] + vectors[1] if len(vectors) == 2 else vectors[0])
    return result


def round_up(kept: Value, guard: Value, sticky: Value) -> Value:
    """Whether round half to even adds one to `kept`, given the bit just below it (guard) and
    whether any bit below that is set (sticky)."""
    return guard & (sticky | kept[0])


class StallPipeline:
    """Valid bits of a pipeline that advances as a whole, whenever its last stage is empty or
    is being read: simple, and it keeps every stage's data and valid in lockstep.

    With an `interval` of R > 1 it takes a request at most every R advances. A value that
    only rides along (`hold`) then needs a register every R stages, not every stage: no later
    request can overwrite it sooner."""

    def __init__(
        self,
        m: Module,
        source: stream.Interface,
        sink: stream.Interface,
        stages: int,
        interval: int = 1,
    ) -> None:
        self.m = m
        self.interval = interval
        self.advance = Signal(name="advance")
        self.valid = [Signal(name=f"valid_{i}") for i in range(stages)]
        # A request may enter once the one before has left the first R - 1 stages.
        self.accept = Signal(name="accept")
        recent = self.valid[: interval - 1]
        m.d.comb += [
            self.advance.eq(~self.valid[-1] | sink.ready),
            source.ready.eq(self.advance & ~Cat(*recent).any() if recent else self.advance),
            self.accept.eq(source.valid & source.ready),
            sink.valid.eq(self.valid[-1]),
        ]
        with m.If(self.advance):
            m.d.sync += self.valid[0].eq(self.accept)
            for prev, nxt in zip(self.valid, self.valid[1:], strict=False):
                m.d.sync += nxt.eq(prev)

    # Its data registers have no reset: the valid bits say what they hold. A reset would join
    # `advance` in every enable (an iCE40 flip-flop resets only when enabled).
    def register(self, value: Value, name: str) -> Signal:
        reg = Signal.like(value, name=name, reset_less=True)
        with self.m.If(self.advance):
            self.m.d.sync += reg.eq(value)
        return reg

    def entering(self, stage: int) -> Value:
        """Whether a request moves into `stage` (counted from 1) at this advance."""
        return self.accept if stage == 1 else self.valid[stage - 2]

    def keep(self, value: Value, stage: int, name: str) -> Signal:
        """`value` registered as a request enters `stage`, and kept until the next request
        does: for R advances at least, so stages up to `stage + R - 1` may still read it."""
        reg = Signal.like(value, name=name, reset_less=True)
        with self.m.If(self.advance & self.entering(stage)):
            self.m.d.sync += reg.eq(value)
        return reg

    def hold(self, value: Value, stage: int, name: str) -> Value:
        """`value` as stage `stage` sees it: registered there at an interval of 1; otherwise
        registered only in stages 1, R + 1, 2R + 1, ... and only when a request enters them,
        so each register keeps its request's value for the R stages that read it."""
        if self.interval == 1:
            return self.register(value, name)
        if (stage - 1) % self.interval:
            return value
        return self.keep(value, stage, name)
