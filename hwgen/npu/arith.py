"""Combinational building blocks shared by the NPU's datapaths."""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream


def bit_length(m: Module, value: Value, name: str, less: int = 0) -> Signal:
    """Position of the leading one plus one, less `less` and at least 0; 0 for 0 (a priority
    encoder whose constants already have `less` taken off: no subtractor after it)."""
    width = len(value)
    result = Signal(range(max(width + 1 - less, 1)), name=name)
    for i in range(width):  # later assignments win: the highest set bit decides
        with m.If(value[i]):
            m.d.comb += result.eq(max(i + 1 - less, 0))
    return result


def rne_parts(
    m: Module, value: Value, shift: Value, name: str, limit: int | None = None
) -> tuple[Signal, Signal]:
    """round(value / 2^shift), ties to even, for an unsigned value and any shift, as a quotient
    and whether to round it up: the caller adds them (usually a pipeline stage later).

    Guard and sticky bits instead of a remainder: no subtraction on the way. A shift that
    cannot exceed width + 1 (by its shape, or by `limit` where the caller clamped it) is used
    as it is."""
    width = len(value)
    sh = Signal(range(width + 2), name=f"{name}_shift")
    if limit is None:
        limit = (1 << len(shift)) - 1
    if limit <= width + 1:
        m.d.comb += sh.eq(shift)
    else:  # beyond width + 1 every result is 0, as at width + 1
        m.d.comb += sh.eq(Mux(shift > width + 1, width + 1, shift))
    quotient = Signal(width, name=f"{name}_q")
    guard = Signal(name=f"{name}_guard")  # the bit just below the quotient
    sticky = Signal(name=f"{name}_sticky")  # any bit below that
    round_up = Signal(name=f"{name}_up")
    # Bits below the guard: value bit i is one of them if i + 1 < shift (never beyond limit).
    below_guard = Cat(Const(i + 1) < sh if i + 1 < limit else Const(0) for i in range(width))
    m.d.comb += [
        quotient.eq(value >> sh),
        guard.eq((Cat(Const(0, 1), value) >> sh)[0]),
        sticky.eq((value & below_guard).any()),
        round_up.eq(guard & (sticky | quotient[0])),
    ]
    return quotient, round_up


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

    def register(self, value: Value, name: str) -> Signal:
        reg = Signal.like(value, name=name)
        with self.m.If(self.advance):
            self.m.d.sync += reg.eq(value)
        return reg

    def entering(self, stage: int) -> Value:
        """Whether a request moves into `stage` (counted from 1) at this advance."""
        return self.accept if stage == 1 else self.valid[stage - 2]

    def hold(self, value: Value, stage: int, name: str) -> Value:
        """`value` as stage `stage` sees it: registered there at an interval of 1; otherwise
        registered only in stages 1, R + 1, 2R + 1, ... and only when a request enters them,
        so each register keeps its request's value for the R stages that read it."""
        if self.interval == 1:
            return self.register(value, name)
        if (stage - 1) % self.interval:
            return value
        reg = Signal.like(value, name=name)
        with self.m.If(self.advance & self.entering(stage)):
            self.m.d.sync += reg.eq(value)
        return reg
