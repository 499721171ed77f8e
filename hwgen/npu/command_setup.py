"""The products a command needs, derived once per command with one serial multiplier.

The address generator walks the loop nest with adders only, and the range checks need the
sizes of the tensors; both come from products of descriptor fields (in_w * cin_blocks, ...).
Done here one bit per cycle, they cost a fixed number of cycles per command (`SETUP_CYCLES`,
independent of the values, so the cycle model stays exact) instead of a dozen multipliers on
the critical path: the UP5K has eight DSPs and they belong to the array.

Every product is kept as its low `NpuConfig.product_width` bits plus an overflow flag (the
true value is 2^width or more); an operand field wider than that enters as its low bits with
the flag set if any higher bit is. The address constants are used modulo 2^width, which the
address generator's narrower addresses follow; a size that overflowed is above every depth, and
the checks refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Const, Module, Mux, Signal, Value, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.config import NpuConfig
from hwgen.npu.descriptor import CONV_DESCRIPTOR


@dataclass(frozen=True)
class Product:
    name: str
    a: str  # a descriptor field or an earlier product
    b: str  # a descriptor field (its width sets the cycles) or an earlier product
    b_bits: int  # the field's width, fixed so that SETUP_CYCLES does not depend on the config
    # Whether it is kept in `derived`: not if only the next product takes it, as its `a`,
    # straight from the multiplier's sum.
    kept: bool = True


PROGRAM = (
    Product("row_pitch", "in_w", "cin_blocks", 16),  # activation words per input row
    Product("act_size", "row_pitch", "in_h", 16),
    Product("kernel_cin", "cin_blocks", "kernel_h", 8, kept=False),
    Product("reduction", "kernel_cin", "kernel_w", 8),  # steps per output row
    Product("weight_size", "reduction", "cout_blocks", 16),
    Product("pixels", "out_w", "out_h", 16, kept=False),
    Product("rows", "pixels", "cout_blocks", 16),
    Product("col_step", "cin_blocks", "dilation_w", 8),  # address step of one kernel column
    Product("row_step", "row_pitch", "dilation_h", 8),  # ... of one kernel row
    Product("pixel_step", "cin_blocks", "stride_w", 8),  # ... of one output column
    Product("line_step", "row_pitch", "stride_h", 8),  # ... of one output row
    Product("pad_cols", "cin_blocks", "pad_left", 8),
    Product("pad_rows", "row_pitch", "pad_top", 8),
)

# A product's `last` flag is set a cycle ahead of its last bit, from the bits left: a product
# over one bit of b would have no cycle ahead.
assert all(p.b_bits >= 2 for p in PROGRAM), "every product takes two bits of b or more"

# One cycle to load the operands, one per bit of b; then one to hand the results over.
SETUP_CYCLES = sum(p.b_bits + 1 for p in PROGRAM) + 1


def derived_layout(config: NpuConfig) -> data.StructLayout:
    product = data.StructLayout({"value": unsigned(config.product_width), "overflow": 1})
    return data.StructLayout({p.name: product for p in PROGRAM if p.kept})


class CommandSetup(wiring.Component):
    """`start` with `cmd` valid; `done` pulses SETUP_CYCLES - 1 cycles later with `derived`
    valid (it stays valid until the next start)."""

    def __init__(self, config: NpuConfig) -> None:
        self.word = config.product_width
        super().__init__(
            {
                "cmd": In(CONV_DESCRIPTOR),
                "start": In(1),
                "done": Out(1),
                "derived": Out(derived_layout(config)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        derived = self.derived
        fields = {name for name, _ in CONV_DESCRIPTOR}

        word = self.word
        acc = Signal(word)
        overflow = Signal()

        def operand(name: str, k: int) -> tuple[Value, Value]:
            if k and name == PROGRAM[k - 1].name:
                # The product just made: the sum and its flag still hold it.
                return acc, overflow
            if name in fields:
                field = Value.cast(self.cmd[name])
                if len(field) <= word:
                    return field, Const(0, 1)
                return field[:word], field[word:].any()
            return Value.cast(derived[name].value), Value.cast(derived[name].overflow)

        # The product being made, one-hot: the operand multiplexers select on flip-flops with
        # no decode of a counter before them (op -> decode -> 13-way multiplexer -> a_shift
        # was the iCEBreaker's critical path, five logic levels).
        op = Signal(len(PROGRAM))
        # The bits of b still to take after this one, and whether this one is its last: a flag
        # set a cycle ahead, so that ending a product waits on a flip-flop, not on a comparison.
        left = Signal(range(max(p.b_bits for p in PROGRAM)))
        last = Signal()
        running = Signal()
        loading = Signal()
        a_shift = Signal(word)
        a_lost = Signal()  # a one has been shifted out of a_shift: its next use overflows
        b_shift = Signal(word)
        # The operands' own overflow flags. Whether the other operand is nonzero is judged
        # from the shift registers, not from the operand multiplexer: a comparison behind it
        # was the iCEBreaker's critical path (a field, through the multiplexer, into
        # `overflow`). a_over and a nonzero b shows as a one of b taken with a_over set;
        # b_over and a nonzero a, at the end, as a one left in a_shift or shifted out of it.
        a_over = Signal()
        b_over = Signal()

        with m.If(self.start):
            m.d.sync += [running.eq(1), loading.eq(1), op.eq(1)]

        def select(per_product: list[Value]) -> Value:
            """The value for the product being made, one per product in PROGRAM: AND-OR."""
            selected: Value = Const(0, 1)
            for k, value in enumerate(per_product):
                selected = selected | Mux(op[k], value, 0)
            return selected

        with m.If(running & loading):
            a = [operand(p.a, k) for k, p in enumerate(PROGRAM)]
            b = [operand(p.b, k) for k, p in enumerate(PROGRAM)]
            m.d.sync += [
                a_shift.eq(select([value for value, _ in a])),
                b_shift.eq(select([value for value, _ in b])),
                a_over.eq(select([flag for _, flag in a])),
                b_over.eq(select([flag for _, flag in b])),
                left.eq(select([Const(p.b_bits - 1) for p in PROGRAM])),
            ]
            m.d.sync += [
                loading.eq(0),
                a_lost.eq(0),
                acc.eq(0),
                overflow.eq(0),
                last.eq(0),
            ]

        with m.If(running & ~loading):
            total = Signal(word + 1)
            m.d.comb += total.eq(acc + a_shift)
            with m.If(b_shift[0]):
                m.d.sync += acc.eq(total[:word])
                with m.If(total[word] | a_lost | a_over):
                    m.d.sync += overflow.eq(1)
            m.d.sync += [
                a_shift.eq(a_shift << 1),
                a_lost.eq(a_lost | a_shift[-1]),
                b_shift.eq(b_shift >> 1),
                left.eq(left - 1),
                last.eq(left == 1),
            ]
            with m.If(last):
                final = Mux(b_shift[0], total[:word], acc)
                a_nonzero = (a_shift != 0) | a_lost | a_over
                final_over = (
                    overflow | (b_shift[0] & (total[word] | a_lost | a_over)) | (b_over & a_nonzero)
                )
                for k, p in enumerate(PROGRAM):
                    if p.kept:
                        with m.If(op[k]):
                            m.d.sync += [
                                derived[p.name].value.eq(final),
                                derived[p.name].overflow.eq(final_over),
                            ]
                # The flag is kept for the next product, whose a this one may be.
                m.d.sync += [overflow.eq(final_over), op.eq(op << 1), loading.eq(~op[-1])]
                with m.If(op[-1]):
                    m.d.sync += [running.eq(0), self.done.eq(1)]
        with m.If(self.done):
            m.d.sync += self.done.eq(0)
        return m
