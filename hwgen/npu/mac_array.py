"""The blocked M x M multiplier array: M^2 signed 8x8 multipliers, M adder trees and M
accumulators.

Each step one M-vector of activations a[i] meets one M x M weight block w[i][c]; lane c adds
sum_i a[i] * w[i][c] to its accumulator. A step marked `first` starts new sums, one marked `last`
hands them out on `sums` with `sums_valid`. Three pipeline stages (products, adder trees,
accumulate) move only while `en` is high; the owner holds `en` low while it cannot take a valid
`sums`, which keeps them, so the array stalls as a whole.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.config import NpuConfig


def _tree_sum(m: Module, terms: list[Signal], width: int, name: str) -> Signal:
    """Balanced adder tree (log2 M levels), combinational."""
    level = 0
    while len(terms) > 1:
        nxt = []
        for k in range(0, len(terms), 2):
            s = Signal(signed(width), name=f"{name}_l{level}_{k // 2}")
            m.d.comb += s.eq(terms[k] + terms[k + 1])
            nxt.append(s)
        terms = nxt
        level += 1
    return terms[0]


class MacArray(wiring.Component):
    LATENCY = 3  # steps in, sums out: products, trees, accumulators

    def __init__(self, config: NpuConfig) -> None:
        self.config = config
        m = config.array
        operand = signed(config.operand_width)
        self.vector = data.ArrayLayout(operand, m)
        self.block = data.ArrayLayout(data.ArrayLayout(operand, m), m)  # [input lane][output lane]
        super().__init__(
            {
                "en": In(1),
                "valid": In(1),
                "first": In(1),
                "last": In(1),
                "a": In(self.vector),
                "w": In(self.block),
                "sums": Out(data.ArrayLayout(signed(config.acc_width), m)),
                "sums_valid": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        size = self.config.array
        acc_width = self.config.acc_width
        product_width = 2 * self.config.operand_width

        # Stage 1: M^2 products.
        products = [
            [Signal(signed(product_width), name=f"p_{i}_{c}") for c in range(size)]
            for i in range(size)
        ]
        p_valid, p_first, p_last = Signal(), Signal(), Signal()
        with m.If(self.en):
            for i in range(size):
                for c in range(size):
                    m.d.sync += products[i][c].eq(self.a[i] * self.w[i][c])
            m.d.sync += [p_valid.eq(self.valid), p_first.eq(self.first), p_last.eq(self.last)]

        # Stage 2: one adder tree per output lane.
        tree_width = product_width + max(size.bit_length() - 1, 1)
        sums = [Signal(signed(tree_width), name=f"tree_{c}") for c in range(size)]
        t_valid, t_first, t_last = Signal(), Signal(), Signal()
        with m.If(self.en):
            for c in range(size):
                column = [products[i][c] for i in range(size)]
                m.d.sync += sums[c].eq(_tree_sum(m, column, tree_width, f"t{c}"))
            m.d.sync += [t_valid.eq(p_valid), t_first.eq(p_first), t_last.eq(p_last)]

        # Stage 3: accumulators (wrapping like int32); a finished row is copied out so that
        # the next row starts at once. A held `sums_valid` holds the whole array (see `en`).
        accs = [Signal(signed(acc_width), name=f"acc_{c}") for c in range(size)]
        with m.If(self.en):
            m.d.sync += self.sums_valid.eq(t_valid & t_last)
            for c in range(size):
                value = Signal(signed(acc_width), name=f"next_{c}")
                m.d.comb += value.eq(Mux(t_first, sums[c], sums[c] + accs[c]))
                with m.If(t_valid):
                    m.d.sync += accs[c].eq(value)
                    with m.If(t_last):
                        m.d.sync += self.sums[c].eq(value)
        return m
