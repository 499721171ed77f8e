"""The blocked M x M multiplier array: M^2 signed 8x8 multipliers, M adder trees and M
accumulators.

Each step one M-vector of activations a[i] meets one M x M weight block w[i][c]; lane c adds
sum_i a[i] * w[i][c] to its accumulator. A step marked `last` hands the sums out on `sums` with
`sums_valid` and clears the accumulators, so the next row starts from zero: rows follow one
another, and no step needs a mark of its own to start one. The sums stay until the owner raises
`taken` in the last cycle it reads them. Six pipeline stages (operands, products, the trees'
first level, their second, the rest of the trees, accumulate) move only while `en` is high, and keep
accumulating the next row while the owner reads the last: the owner holds `en` low only while a
row would finish onto sums not taken, so the array stalls as a whole and no row is lost.

The operand and product registers are the ones inside the device's DSP blocks where it has
them (ECP5 MULT18X18D, iCE40 SB_MAC16): a DSP block sits apart from the logic, and without its
own registers both the route into it and the route out of it fall in one cycle with its
multiplier.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.arith import adder_tree, adder_tree_level
from hwgen.npu.config import NpuConfig
from hwgen.npu.device import ice40_mac16_blocks, is_ecp5
from hwgen.npu.dsp import mult18x18d, sb_mac16_dual8x8

# Levels of each adder tree registered apart, before the rest of the tree.
REGISTERED_TREE_LEVELS = 2


class MacArray(wiring.Component):
    # Steps in, sums out: operands, products, the trees' registered levels, the rest of the
    # trees, accumulators.
    LATENCY = 2 + REGISTERED_TREE_LEVELS + 2

    def __init__(self, config: NpuConfig) -> None:
        """The products go into the DSP blocks of the platform's device (hwgen.npu.dsp): one
        ECP5 MULT18X18D each, or two per iCE40 SB_MAC16 while there are blocks; in logic
        otherwise, as in simulation."""
        self.config = config
        m = config.array
        operand = signed(config.operand_width)
        self.vector = data.ArrayLayout(operand, m)
        self.block = data.ArrayLayout(data.ArrayLayout(operand, m), m)  # [input lane][output lane]
        super().__init__(
            {
                "en": In(1),
                "valid": In(1),
                "last": In(1),
                "a": In(self.vector),
                "w": In(self.block),
                "sums": Out(data.ArrayLayout(signed(config.sum_width), m)),
                "sums_valid": Out(1),
                "taken": In(1),
                # What sums_valid, and whether a row finishes at the next edge if `en` is high,
                # will be after this edge: the owner can register the array's enable, which
                # depends on both, instead of working it out late.
                "sums_valid_next": Out(1),
                "finishing_next": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        size = self.config.array
        sum_width = self.config.sum_width
        product_width = 2 * self.config.operand_width

        # Stages 1 and 2: the operands registered, then M^2 products. The data registers of
        # stages 1 to 4 have no reset (the valid bits say what they hold): on an iCE40 a reset
        # would join every enable. The accumulators keep theirs, to start from zero after one.
        products = [
            [Signal(signed(product_width), name=f"p_{i}_{c}", reset_less=True) for c in range(size)]
            for i in range(size)
        ]
        pairs = [(i, c) for i in range(size) for c in range(size)]
        if is_ecp5(platform):
            for i, c in pairs:
                out = mult18x18d(m, self.a[i], self.w[i][c], self.en, f"mult18_{i}_{c}")
                m.d.comb += products[i][c].eq(out[:product_width].as_signed())
            in_dsp = len(pairs)
        else:
            in_dsp = 2 * min(ice40_mac16_blocks(platform), len(pairs) // 2)
            for k in range(0, in_dsp, 2):
                (ti, tc), (bi, bc) = pairs[k], pairs[k + 1]
                top, bottom = sb_mac16_dual8x8(
                    m,
                    (self.a[ti], self.w[ti][tc]),
                    (self.a[bi], self.w[bi][bc]),
                    self.en,
                    f"mac16_{k // 2}",
                )
                m.d.comb += [products[ti][tc].eq(top), products[bi][bc].eq(bottom)]
        a = Signal.like(self.a, name="a_reg", reset_less=True)
        w = Signal.like(self.w, name="w_reg", reset_less=True)
        i_valid, i_last = Signal(), Signal()
        p_valid, p_last = Signal(), Signal()
        with m.If(self.en):
            if in_dsp < len(pairs):
                m.d.sync += [a.eq(self.a), w.eq(self.w)]
            for i, c in pairs[in_dsp:]:
                m.d.sync += products[i][c].eq(a[i] * w[i][c])
            m.d.sync += [i_valid.eq(self.valid), i_last.eq(self.last)]
            m.d.sync += [p_valid.eq(i_valid), p_last.eq(i_last)]

        # Stages 3 to 5: one adder tree per output lane, its first two levels each registered
        # apart (at M = 8 the two carry chains of its last levels in a row were 10.1 ns on
        # the ULX3S).
        tree_width = product_width + max(size.bit_length() - 1, 1)
        columns: list[list[Value]] = [[products[i][c] for i in range(size)] for c in range(size)]
        valid, last = p_valid, p_last
        for level in range(REGISTERED_TREE_LEVELS):
            summed_columns: list[list[Value]] = []
            level_valid, level_last = Signal(name=f"l{level}_valid"), Signal(name=f"l{level}_last")
            with m.If(self.en):
                for c, column in enumerate(columns):
                    summed = adder_tree_level(m, column, signed(tree_width), f"t{c}_l{level}")
                    kept = [
                        Signal(signed(tree_width), name=f"level{level}_{c}_{k}", reset_less=True)
                        for k in range(len(summed))
                    ]
                    m.d.sync += [reg.eq(value) for reg, value in zip(kept, summed, strict=True)]
                    summed_columns.append(list(kept))
                m.d.sync += [level_valid.eq(valid), level_last.eq(last)]
            columns, valid, last = summed_columns, level_valid, level_last
        sums = [Signal(signed(tree_width), name=f"tree_{c}", reset_less=True) for c in range(size)]
        t_valid, t_last = Signal(), Signal()
        with m.If(self.en):
            for c in range(size):
                m.d.sync += sums[c].eq(adder_tree(m, columns[c], signed(tree_width), f"t{c}"))
            m.d.sync += [t_valid.eq(valid), t_last.eq(last)]

        # Stage 6: accumulators, NpuConfig.sum_width wide (no command's sum reaches the int32
        # wrap); a finished row is copied out so that the next row starts at once.
        accs = [Signal(signed(sum_width), name=f"acc_{c}") for c in range(size)]
        finishing = t_valid & t_last
        m.d.comb += [
            self.finishing_next.eq(Mux(self.en, valid & last, finishing)),
            self.sums_valid_next.eq((self.en & finishing) | (self.sums_valid & ~self.taken)),
        ]
        m.d.sync += self.sums_valid.eq(self.sums_valid_next)
        # The accumulators clear as a row hands its sums out (a synchronous reset, which an
        # iCE40 or ECP5 flip-flop has for free), so the next row's first step adds to zero:
        # no multiplexer between the adder and its register.
        with m.If(self.en & t_valid):
            for c in range(size):
                value = Signal(signed(sum_width), name=f"next_{c}")
                m.d.comb += value.eq(sums[c] + accs[c])
                with m.If(t_last):
                    m.d.sync += [accs[c].eq(0), self.sums[c].eq(value)]
                with m.Else():
                    m.d.sync += accs[c].eq(value)
        return m
