"""A wide, deep memory in banks one block RAM deep, each bank's word registered before the bank
is selected.

A memory deeper than one block RAM is built by yosys from rows of blocks and a multiplexer after
them. The blocks' outputs are slow (5.8 ns on an ECP5) and a wide memory's blocks spread over the
device, so the multiplexer and its route to the next register missed a 100 MHz cycle (11.8 ns for
the weights on the ULX3S). Here each bank's word has a register of its own straight after its
blocks, which the ECP5 flow makes the blocks' own output register
(hwgen.boards.ram_output_registers), and the multiplexer follows it.
"""

from __future__ import annotations

from amaranth import Array, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, exact_log2

# Words of a bank: the depth of an ECP5 DP16KD at its widest (512 x 36), as yosys maps a wide
# memory; narrower modes are deeper, and a bank of them is still one block deep.
BANK_WORDS = 512
READ_LATENCY = 2  # the read, and the bank's word registered; `rd_data` follows the multiplexer


class BankedMemory(wiring.Component):
    """`depth` words of `width` bits, written `granularity` bits at a time.

    A write lands the cycle after the port shows it (its enables, address and data are
    registered first, the bank decoded before that register). A read's word is on `rd_data`
    READ_LATENCY cycles after its address, counting only cycles with `rd_en` high: both stages
    move under it, so a stalled read holds its word."""

    def __init__(self, width: int, depth: int, granularity: int, bank_words: int = BANK_WORDS):
        self.width = width
        self.depth = depth
        self.granularity = granularity
        self.bank_words = min(bank_words, 1 << bits_for(max(depth - 1, 1)))
        self.banks = -(-depth // self.bank_words)
        super().__init__(
            {
                "wr_en": In(width // granularity),
                "wr_addr": In(range(depth)),
                "wr_data": In(width),
                "rd_en": In(1),
                "rd_addr": In(range(depth)),
                "rd_data": Out(width),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        low = exact_log2(self.bank_words)
        high = max(bits_for(self.banks - 1), 1)
        wr_addr = Signal(low)
        wr_data = Signal(self.width)
        m.d.sync += [wr_addr.eq(self.wr_addr[:low]), wr_data.eq(self.wr_data)]
        # The bank that a read's word comes from, as the read and then the bank's word see it.
        read_bank = Signal(high)
        word_bank = Signal(high)
        with m.If(self.rd_en):
            m.d.sync += [read_bank.eq(self.rd_addr[low:]), word_bank.eq(read_bank)]
        words = []
        for k in range(self.banks):
            depth = min(self.bank_words, self.depth - k * self.bank_words)
            m.submodules[f"bank_{k}"] = bank = Memory(shape=self.width, depth=depth, init=[])
            write = bank.write_port(granularity=self.granularity)
            wr_en = Signal.like(self.wr_en, name=f"bank_{k}_wr_en")
            mine = self.wr_addr[low:] == k if self.banks > 1 else 1
            m.d.sync += wr_en.eq(Mux(mine, self.wr_en, 0))
            m.d.comb += [write.en.eq(wr_en), write.addr.eq(wr_addr), write.data.eq(wr_data)]
            read = bank.read_port()
            word = Signal(self.width, name=f"bank_{k}_word")
            m.d.comb += [read.en.eq(self.rd_en), read.addr.eq(self.rd_addr[:low])]
            with m.If(self.rd_en):
                m.d.sync += word.eq(read.data)
            words.append(word)
        if self.banks == 1:
            m.d.comb += self.rd_data.eq(words[0])
        else:
            m.d.comb += self.rd_data.eq(Array(words)[word_bank])
        return m
