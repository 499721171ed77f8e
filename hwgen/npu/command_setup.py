"""The products a command needs, derived once per command with one serial multiplier.

The address generator walks the loop nest with adders only, and the range checks need the
sizes of the tensors; both come from products of descriptor fields (in_w * cin_blocks, ...).
Done here one bit per cycle, they cost a fixed number of cycles per command (`SETUP_CYCLES`,
independent of the values, so the cycle model stays exact) instead of a dozen multipliers on
the critical path: the UP5K has eight DSPs and they belong to the array.

Every product is kept as its low 16 bits plus an overflow flag (the true value is 2^16 or
more). The address constants are used modulo 2^16, as the addresses are; the checks refuse any
size that overflowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Const, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.descriptor import CONV_DESCRIPTOR

WORD = 16
PRODUCT = data.StructLayout({"value": unsigned(WORD), "overflow": 1})


@dataclass(frozen=True)
class Product:
    name: str
    a: str  # a descriptor field or an earlier product
    b: str  # a descriptor field (its width sets the cycles) or an earlier product
    b_bits: int


PROGRAM = (
    Product("row_pitch", "in_w", "cin_blocks", 16),  # activation words per input row
    Product("act_size", "row_pitch", "in_h", 16),
    Product("kernel_cin", "cin_blocks", "kernel_h", 8),
    Product("reduction", "kernel_cin", "kernel_w", 8),  # steps per output row
    Product("weight_size", "reduction", "cout_blocks", 16),
    Product("pixels", "out_w", "out_h", 16),
    Product("rows", "pixels", "cout_blocks", 16),
    Product("col_step", "cin_blocks", "dilation_w", 8),  # address step of one kernel column
    Product("row_step", "row_pitch", "dilation_h", 8),  # ... of one kernel row
    Product("pixel_step", "cin_blocks", "stride_w", 8),  # ... of one output column
    Product("line_step", "row_pitch", "stride_h", 8),  # ... of one output row
    Product("pad_cols", "cin_blocks", "pad_left", 8),
    Product("pad_rows", "row_pitch", "pad_top", 8),
)

# One cycle to load the operands, one per bit of b; then one to hand the results over.
SETUP_CYCLES = sum(p.b_bits + 1 for p in PROGRAM) + 1

DERIVED = data.StructLayout({p.name: PRODUCT for p in PROGRAM})


class CommandSetup(wiring.Component):
    """`start` with `cmd` valid; `done` pulses SETUP_CYCLES - 1 cycles later with `derived`
    valid (it stays valid until the next start)."""

    def __init__(self) -> None:
        super().__init__(
            {
                "cmd": In(CONV_DESCRIPTOR),
                "start": In(1),
                "done": Out(1),
                "derived": Out(DERIVED),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        derived = self.derived
        fields = {name for name, _ in CONV_DESCRIPTOR}

        def operand(name: str) -> tuple[Value, Value]:
            if name in fields:
                return Value.cast(self.cmd[name]), Const(0, 1)
            return Value.cast(derived[name].value), Value.cast(derived[name].overflow)

        op = Signal(range(len(PROGRAM) + 1))
        bit = Signal(range(WORD + 1))
        running = Signal()
        loading = Signal()
        a_shift = Signal(WORD)
        a_lost = Signal()  # a one has been shifted out of a_shift: its next use overflows
        b_shift = Signal(WORD)
        acc = Signal(WORD)
        overflow = Signal()

        with m.If(self.start):
            m.d.sync += [running.eq(1), loading.eq(1), op.eq(0)]

        with m.If(running & loading):
            with m.Switch(op):
                for k, p in enumerate(PROGRAM):
                    with m.Case(k):
                        a, a_over = operand(p.a)
                        b, b_over = operand(p.b)
                        a_nonzero = (a != 0) | a_over
                        b_nonzero = (b != 0) | b_over
                        m.d.sync += [
                            a_shift.eq(a),
                            b_shift.eq(b),
                            overflow.eq((a_over & b_nonzero) | (b_over & a_nonzero)),
                        ]
            m.d.sync += [loading.eq(0), a_lost.eq(0), acc.eq(0), bit.eq(0)]

        with m.If(running & ~loading):
            total = Signal(WORD + 1)
            m.d.comb += total.eq(acc + a_shift)
            with m.If(b_shift[0]):
                m.d.sync += acc.eq(total[:WORD])
                with m.If(total[WORD] | a_lost):
                    m.d.sync += overflow.eq(1)
            m.d.sync += [
                a_shift.eq(a_shift << 1),
                a_lost.eq(a_lost | a_shift[-1]),
                b_shift.eq(b_shift >> 1),
                bit.eq(bit + 1),
            ]
            with m.Switch(op):
                for k, p in enumerate(PROGRAM):
                    with m.Case(k):
                        with m.If(bit == p.b_bits - 1):
                            final = Mux(b_shift[0], total[:WORD], acc)
                            final_over = overflow | (b_shift[0] & (total[WORD] | a_lost))
                            m.d.sync += [
                                derived[p.name].value.eq(final),
                                derived[p.name].overflow.eq(final_over),
                                op.eq(op + 1),
                                loading.eq(k + 1 < len(PROGRAM)),
                            ]
                            if k + 1 == len(PROGRAM):
                                m.d.sync += [running.eq(0), self.done.eq(1)]
        with m.If(self.done):
            m.d.sync += self.done.eq(0)
        return m
