"""The host's way into a board's system memory: the UART bridge's data stream written into it,
and read back from it, at an address the host sets. The NPU's DMA and this port share the
memory's two ports; the host only moves data while the NPU is idle (its driver flushes before
starting a program and invalidates after it is done), so they never take a port at once.

Registers (bytes offsets on the bridge's AXI4-Lite bus, beside the NPU's below 0x100):
"""

from __future__ import annotations

import enum

from amaranth import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.npu.axi import AxiLiteSlave, axi_lite_slave, axi_stream
from hwgen.npu.axi_memory import ReadQueue, memory_port

NPU_SPAN = 0x100  # the NPU's registers lie below; this port's from here
ADDR_WIDTH = 9  # the bridge's register addresses: the NPU's and this port's


class HostReg(enum.IntEnum):
    MEM_ADDR = 0x100  # RW: byte address (whole beats) where the next stream beat goes, or from
    MEM_COUNT = 0x104  # RW: beats to read
    MEM_CTRL = 0x108  # W: READ [0] sends MEM_COUNT beats from MEM_ADDR on; RO: busy [0]
    MEM_BYTES = 0x10C  # RO: the system memory's size


MEM_READ = 1 << 0


class HostPort(wiring.Component):
    def __init__(self, data_width: int, word_addr_width: int, size: int) -> None:
        self.data_width = data_width
        self.shift = exact_log2(data_width // 8)
        self.size = size
        super().__init__(
            {
                "s_axil": Out(axi_lite_slave(ADDR_WIDTH - 1)),
                "s_axis": In(axi_stream(data_width)),
                "m_axis": Out(axi_stream(data_width)),
                "port": Out(memory_port(word_addr_width, data_width)),
                "active": Out(1),  # the port is the memory's this cycle
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.regs = regs = AxiLiteSlave(ADDR_WIDTH - 1)
        wiring.connect(m, wiring.flipped(self.s_axil), regs.bus)
        pointer = Signal(len(self.port.wr_addr))
        left = Signal(32)  # beats still to read
        more = Signal()  # left != 0, kept as a flag: a comparison of 32 bits in front of the
        # memory's read enable was the ULX3S's critical path
        reading = Signal()
        word = {reg: (reg - NPU_SPAN) // 4 for reg in HostReg}
        m.d.comb += regs.write_error.eq(
            (regs.write_addr != word[HostReg.MEM_ADDR])
            & (regs.write_addr != word[HostReg.MEM_COUNT])
            & (regs.write_addr != word[HostReg.MEM_CTRL])
        )
        count = Signal(32)
        with m.If(regs.write):
            with m.Switch(regs.write_addr):
                with m.Case(word[HostReg.MEM_ADDR]):
                    m.d.sync += pointer.eq(regs.write_data[self.shift :])
                with m.Case(word[HostReg.MEM_COUNT]):
                    m.d.sync += count.eq(regs.write_data)
                with m.Case(word[HostReg.MEM_CTRL]):
                    with m.If(regs.write_data[0] & (count != 0)):
                        m.d.sync += [reading.eq(1), left.eq(count), more.eq(1)]
        m.d.comb += regs.read_error.eq(0)
        with m.Switch(regs.read_addr):
            with m.Case(word[HostReg.MEM_ADDR]):
                m.d.comb += regs.read_data.eq(pointer << self.shift)
            with m.Case(word[HostReg.MEM_COUNT]):
                m.d.comb += regs.read_data.eq(count)
            with m.Case(word[HostReg.MEM_CTRL]):
                m.d.comb += regs.read_data.eq(reading)
            with m.Case(word[HostReg.MEM_BYTES]):
                m.d.comb += regs.read_data.eq(self.size)
            with m.Default():
                m.d.comb += regs.read_error.eq(1)

        # Writes: each beat into the word at the pointer.
        beat_in = self.s_axis.tvalid & self.s_axis.tready
        m.d.comb += [
            self.s_axis.tready.eq(~reading),
            self.port.wr_en.eq(beat_in),
            self.port.wr_addr.eq(pointer),
            self.port.wr_data.eq(self.s_axis.tdata),
            self.port.wr_strb.eq(-1),
        ]
        # Reads: words from the memory into a queue the stream drains (the memory gives a word
        # PORT_LATENCY cycles after it is asked for, for that cycle).
        out = self.m_axis
        m.submodules.reads = reads = ReadQueue(self.data_width, data.StructLayout({"last": 1}))
        ask = reads.issue
        m.d.comb += [
            reads.want.eq(reading & more),
            reads.tag.last.eq(left == 1),
            reads.data.eq(self.port.rd_data),
            self.port.rd_en.eq(ask),
            self.port.rd_addr.eq(pointer),
            out.tvalid.eq(reads.valid),
            out.tdata.eq(reads.word),
            out.tlast.eq(reads.tag_out.last),
            reads.ready.eq(out.tready),
            # From flip-flops only: it selects the memory's every address and enable.
            self.active.eq(reading | self.s_axis.tvalid),
        ]
        with m.If(beat_in | ask):
            m.d.sync += pointer.eq(pointer + 1)
        with m.If(ask):
            m.d.sync += [left.eq(left - 1), more.eq(left != 1)]
        # Done once the last word asked for has left.
        with m.If(reading & ~more & out.tvalid & out.tready & out.tlast):
            m.d.sync += reading.eq(0)
        return m


class AxiLiteSplit(wiring.Component):
    """One AXI4-Lite master to two slaves by an address bit: below `NPU_SPAN` the NPU's, from
    it the host port's. The bridge has one transaction in flight at a time, so the answer comes
    from whichever slave answers."""

    def __init__(self) -> None:
        super().__init__(
            {
                "s_axil": Out(axi_lite_slave(ADDR_WIDTH)),
                "npu": In(axi_lite_slave(ADDR_WIDTH - 1)),
                "port": In(axi_lite_slave(ADDR_WIDTH - 1)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        s = self.s_axil
        bit = ADDR_WIDTH - 1
        for target, selected_w, selected_r in (
            (self.npu, ~s.awaddr[bit], ~s.araddr[bit]),
            (self.port, s.awaddr[bit], s.araddr[bit]),
        ):
            m.d.comb += [
                target.awaddr.eq(s.awaddr[:bit]),
                target.awprot.eq(s.awprot),
                target.awvalid.eq(s.awvalid & selected_w),
                target.wdata.eq(s.wdata),
                target.wstrb.eq(s.wstrb),
                target.wvalid.eq(s.wvalid & selected_w),
                target.bready.eq(s.bready),
                target.araddr.eq(s.araddr[:bit]),
                target.arprot.eq(s.arprot),
                target.arvalid.eq(s.arvalid & selected_r),
                target.rready.eq(s.rready),
            ]
        npu, port = self.npu, self.port
        m.d.comb += [
            s.awready.eq(Mux(s.awaddr[bit], port.awready, npu.awready)),
            s.wready.eq(Mux(s.awaddr[bit], port.wready, npu.wready)),
            s.bvalid.eq(npu.bvalid | port.bvalid),
            s.bresp.eq(Mux(port.bvalid, port.bresp, npu.bresp)),
            s.arready.eq(Mux(s.araddr[bit], port.arready, npu.arready)),
            s.rvalid.eq(npu.rvalid | port.rvalid),
            s.rdata.eq(Mux(port.rvalid, port.rdata, npu.rdata)),
            s.rresp.eq(Mux(port.rvalid, port.rresp, npu.rresp)),
        ]
        return m
