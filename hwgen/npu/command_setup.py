"""The products a command needs, derived once per command: with one pipelined multiplier, or,
on a device whose multipliers all belong to the array, one bit per cycle.

The address generator walks the loop nest with adders only, and the range checks need the
sizes of the tensors; both come from products of descriptor fields (in_w * cin_blocks, ...).
Either way they cost a fixed number of cycles per command (`setup_cycles`, independent of the
values, so the cycle model stays exact) instead of a dozen multipliers on the critical path:
`MultiplierSetup` one product per cycle through a three-stage multiplier (16 cycles), the serial
`CommandSetup` one bit per cycle (159 cycles; the UP5K's eight DSPs belong to the array).

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
from hwgen.npu.device import is_ecp5
from hwgen.npu.dsp import mult18x18d


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

# MultiplierSetup's order: a product that takes an earlier one comes MULTIPLIER_STAGES or more
# places after it (its result is registered by then), and the sizes the checks read come early
# (hwgen.npu.core.Core._check registers its verdict over two cycles before `done`).
PIPELINED = (
    "row_pitch",
    "kernel_cin",
    "pixels",
    "col_step",
    "act_size",
    "reduction",
    "rows",
    "pixel_step",
    "row_step",
    "weight_size",
    "line_step",
    "pad_cols",
    "pad_rows",
)
# Operands selected and registered; taken by the multiplier; their product; its low bits and
# overflow flag.
MULTIPLIER_STAGES = 4


def _pipelined_order_is_sound() -> bool:
    place = {name: k for k, name in enumerate(PIPELINED)}
    by_name = {p.name: p for p in PROGRAM}
    return sorted(PIPELINED) == sorted(by_name) and all(
        place[name] - place[operand] >= MULTIPLIER_STAGES
        for name in PIPELINED
        for operand in (by_name[name].a, by_name[name].b)
        if operand in place
    )


assert _pipelined_order_is_sound()

# One product enters per cycle; the last leaves the pipeline MULTIPLIER_STAGES cycles later.
MULTIPLIER_SETUP_CYCLES = len(PIPELINED) + MULTIPLIER_STAGES


def setup_cycles(config: NpuConfig) -> int:
    """Cycles from the edge that takes `start` to the one after `done`, fixed per config."""
    return SETUP_CYCLES if config.serial_setup else MULTIPLIER_SETUP_CYCLES


def command_setup(config: NpuConfig) -> wiring.Component:
    return CommandSetup(config) if config.serial_setup else MultiplierSetup(config)


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


class MultiplierSetup(CommandSetup):
    """CommandSetup's products one per cycle through one multiplier of product_width x 16
    bits: `done` pulses MULTIPLIER_SETUP_CYCLES - 1 cycles after the edge that takes `start`,
    with `derived` valid (held until the next start)."""

    def elaborate(self, platform: object) -> Module:
        m = Module()
        word = self.word
        by_name = {p.name: p for p in PROGRAM}
        products = [by_name[name] for name in PIPELINED]
        fields = {name for name, _ in CONV_DESCRIPTOR}
        # Every product, kept or not: a later one may take it.
        made = {
            p.name: (Signal(word, name=f"{p.name}_value"), Signal(name=f"{p.name}_over"))
            for p in products
        }

        def operand(name: str) -> tuple[Value, Value]:
            if name in fields:
                field = Value.cast(self.cmd[name])
                if len(field) <= word:
                    return field, Const(0, 1)
                return field[:word], field[word:].any()
            return made[name]

        b_width = max(len(Value.cast(self.cmd[p.b])) for p in products)
        assert all(p.b in fields for p in products), "b is a descriptor field"

        # One-hot: the product whose operands are selected now, and a copy per later stage.
        selecting = Signal(len(products))
        selected = Signal(len(products))
        multiplying = Signal(len(products))
        finishing = Signal(len(products))
        m.d.sync += [
            selecting.eq(Mux(self.start, 1, selecting << 1)),
            selected.eq(selecting),
            multiplying.eq(selected),
            finishing.eq(multiplying),
            self.done.eq(finishing[-1]),
        ]

        # The operands of the product being selected: AND-OR over the one-hot.
        a_next, a_over_next = Signal(word), Signal()
        b_next = Signal(b_width)
        a_terms: Value = Const(0, word)
        flag_terms: Value = Const(0, 1)
        b_terms: Value = Const(0, b_width)
        for k, p in enumerate(products):
            value, flag = operand(p.a)
            a_terms = a_terms | Mux(selecting[k], value, 0)
            flag_terms = flag_terms | (selecting[k] & flag)
            b_terms = b_terms | Mux(selecting[k], self.cmd[p.b], 0)
        # The operands are registered before the multiplier: their selection (five logic
        # levels) and the route to the block in one cycle missed 100 MHz on the ULX3S.
        m.d.sync += [a_next.eq(a_terms), a_over_next.eq(flag_terms), b_next.eq(b_terms)]
        # The true product is 2^word or more if the low bits' is, or if `a` is (its low bits
        # alone are not the operand) and b is not zero (b is taken whole).
        a_over, b_nonzero, over = Signal(), Signal(), Signal()
        m.d.sync += [a_over.eq(a_over_next), b_nonzero.eq(b_next != 0), over.eq(a_over & b_nonzero)]
        full = Signal(word + b_width)
        if is_ecp5(platform):
            # In a MULT18X18D with its input and output registers: the routes into the block
            # and out of it each get a cycle (unregistered, they held the ULX3S at 70 MHz).
            product = mult18x18d(m, a_next, b_next, Const(1, 1), "product")
            m.d.comb += full.eq(product[: len(full)])
        else:
            a, b = Signal(word), Signal(b_width)
            m.d.sync += [a.eq(a_next), b.eq(b_next), full.eq(a * b)]
        for k, p in enumerate(products):
            with m.If(finishing[k]):
                value, flag = made[p.name]
                m.d.sync += [value.eq(full[:word]), flag.eq(over | full[word:].any())]
        for p in products:
            if p.kept:
                value, flag = made[p.name]
                m.d.comb += [
                    self.derived[p.name].value.eq(value),
                    self.derived[p.name].overflow.eq(flag),
                ]
        return m
