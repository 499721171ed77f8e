"""A wide buffer as banks of one block RAM's depth, each bank's word registered beside its
blocks before the bank read is selected.

yosys builds a memory deeper than one block from blocks stacked in depth and a multiplexer
after them, which it drives straight from the blocks' outputs. On an ECP5 that output is slow
(5.8 ns), and a wide buffer's blocks spread over the device: block, route and multiplexer did
not fit a 100 MHz cycle on the ULX3S. Here each bank's output meets a register first, which may
sit by its blocks, and the multiplexer follows the registers.

The read port is a pipeline moved by `r_en`: the word at `r_addr` (read while `r_en`) is on
`r_data` after two moves. The write port writes `w_data`'s lanes where `w_en` is set, at the
next clock edge, as a memory's write port does.
"""

from __future__ import annotations

from amaranth import Array, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, ceil_log2

# An ECP5 DP16KD is 512 words deep at its widest (36 bits), so a bank this deep is one block
# deep whatever the width yosys builds it from.
BANK_DEPTH = 512


class BankedMemory(wiring.Component):
    def __init__(self, width: int, depth: int, lanes: int) -> None:
        self.width = width
        self.depth = depth
        self.lanes = lanes
        assert width % lanes == 0
        addr_bits = max(bits_for(depth - 1), 1)
        super().__init__(
            {
                "w_en": In(lanes),
                "w_addr": In(addr_bits),
                "w_data": In(width),
                "r_en": In(1),
                "r_addr": In(addr_bits),
                "r_data": Out(width),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        bank_depth = min(BANK_DEPTH, 1 << ceil_log2(self.depth))
        low = ceil_log2(bank_depth)
        banks = -(-self.depth // bank_depth)
        high = max(bits_for(banks - 1), 1)
        # The bank read, as the blocks' outputs and the banks' registers show it.
        read_bank = Signal(high)
        held_bank = Signal(high)
        with m.If(self.r_en):
            m.d.sync += [read_bank.eq(self.r_addr[low:]), held_bank.eq(read_bank)]
        words = []
        for k in range(banks):
            ram = Memory(
                shape=self.width, depth=min(bank_depth, self.depth - k * bank_depth), init=[]
            )
            m.submodules[f"bank_{k}"] = ram
            write = ram.write_port(granularity=self.width // self.lanes)
            read = ram.read_port()
            mine = self.w_addr[low:] == k if banks > 1 else 1
            m.d.comb += [
                write.en.eq(Mux(mine, self.w_en, 0)),
                write.addr.eq(self.w_addr[:low]),
                write.data.eq(self.w_data),
                read.en.eq(self.r_en),
                read.addr.eq(self.r_addr[:low]),
            ]
            word = Signal(self.width, name=f"bank_{k}_word")
            with m.If(self.r_en):
                m.d.sync += word.eq(read.data)
            words.append(word)
        m.d.comb += self.r_data.eq(Array(words)[held_bank] if banks > 1 else words[0])
        return m
