"""The output buffer: a single-port memory, in an iCE40UP's SPRAM where it fits.

The UP5K has 30 block RAMs and four 16K x 16 single-port SPRAMs; at M = 4 the block RAMs are
one short with the outputs among them. The buffer behaves as the SPRAM does on every target,
so simulation sees what the board does: a write takes the port, and a read asked for in the
same cycle does not happen (`read_taken` is low) and must be asked for again. What a read
gives is defined the cycle after it was taken, not later (SB_SPRAM256KA's output is undefined
after a write).
"""

from __future__ import annotations

from amaranth import Cat, ClockSignal, Const, Instance, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwgen.npu.device import ice40_spram_blocks

SPRAM_WIDTH = 16
SPRAM_DEPTH = 16384


class SinglePortBuffer(wiring.Component):
    def __init__(self, width: int, depth: int) -> None:
        self.width = width
        self.depth = depth
        super().__init__(
            {
                "write_en": In(1),
                "write_addr": In(range(depth)),
                "write_data": In(width),
                "read_addr": In(range(depth)),
                "read_data": Out(width),
                "read_taken": Out(1),
            }
        )

    @property
    def spram_blocks(self) -> int:
        return -(-self.width // SPRAM_WIDTH)

    def in_spram(self, platform: object) -> bool:
        return self.depth <= SPRAM_DEPTH and self.spram_blocks <= ice40_spram_blocks(platform)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.d.comb += self.read_taken.eq(~self.write_en)
        if not self.in_spram(platform):
            m.submodules.mem = mem = Memory(shape=unsigned(self.width), depth=self.depth, init=[])
            write = mem.write_port()
            read = mem.read_port()
            m.d.comb += [
                write.en.eq(self.write_en),
                write.addr.eq(self.write_addr),
                write.data.eq(self.write_data),
                read.en.eq(self.read_taken),
                read.addr.eq(self.read_addr),
                self.read_data.eq(read.data),
            ]
            return m
        address = Signal(14)
        m.d.comb += address.eq(Mux(self.write_en, self.write_addr, self.read_addr))
        outputs = []
        for k in range(self.spram_blocks):
            out = Signal(SPRAM_WIDTH, name=f"spram_{k}_out")
            m.submodules[f"spram_{k}"] = Instance(
                "SB_SPRAM256KA",
                i_ADDRESS=address,
                i_DATAIN=self.write_data[k * SPRAM_WIDTH : (k + 1) * SPRAM_WIDTH],
                i_MASKWREN=Const(0b1111, 4),
                i_WREN=self.write_en,
                i_CHIPSELECT=Const(1, 1),
                i_CLOCK=ClockSignal(),
                i_STANDBY=Const(0, 1),
                i_SLEEP=Const(0, 1),
                i_POWEROFF=Const(1, 1),
                o_DATAOUT=out,
            )
            outputs.append(out)
        m.d.comb += self.read_data.eq(Cat(*outputs))
        return m
