"""System memory behind an AXI4 slave: the board's on-chip RAM, and in co-simulation the host
C's own memory (through a DPI port). Both run the same protocol logic here, so the NPU's DMA sees
one timing, which the cycle model counts on:

- a read burst accepted in cycle t answers its first beat in t + READ_LATENCY, then one beat
  per cycle; the next burst is accepted on the last beat's issue, so bursts run back to back;
- a write burst is accepted when the last one's last beat is (or when idle), its beats are
  taken one per cycle, and its response comes the cycle after its last beat.

Full-width INCR bursts only (what the NPU issues). A beat past `size` bytes (an input: a board
ties it to its RAM's size, co-simulation to the buffer attached) is not done and answers SLVERR.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, exact_log2

from hwgen.npu.axi import OKAY, SLVERR, axi4

READ_LATENCY = 2  # cycles from a read burst's acceptance to its first beat


def memory_port(word_addr_width: int, data_width: int) -> wiring.Signature:
    """A word-addressed memory with one synchronous read port (data the cycle after `rd_en`,
    held while `rd_en` is low) and one write port with byte strobes."""
    return wiring.Signature(
        {
            "rd_en": Out(1),
            "rd_addr": Out(word_addr_width),
            "rd_data": In(data_width),
            "wr_en": Out(1),
            "wr_addr": Out(word_addr_width),
            "wr_data": Out(data_width),
            "wr_strb": Out(data_width // 8),
        }
    )


class AxiMemory(wiring.Component):
    """The AXI4 protocol in front of `port` (a memory of `size` bytes)."""

    def __init__(self, addr_width: int, data_width: int) -> None:
        self.addr_width = addr_width
        self.data_width = data_width
        self.shift = exact_log2(data_width // 8)
        super().__init__(
            {
                "s_axi": In(axi4(addr_width, data_width)),
                "port": Out(memory_port(addr_width - self.shift, data_width)),
                "size": In(addr_width + 1),  # bytes, a whole number of beats
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        self.words = Signal(self.addr_width + 1 - self.shift)
        m.d.sync += self.words.eq(self.size[self.shift :])
        self._reads(m)
        self._writes(m)
        return m

    def _reads(self, m: Module) -> None:
        bus, port = self.s_axi, self.port
        word = len(port.rd_addr)
        active = Signal()
        addr = Signal(word)
        left = Signal(9)  # beats of the burst not yet issued
        inside = Signal()  # the beat issued is inside the memory
        can_issue = ~bus.rvalid | bus.rready
        issue = Signal()
        last = Signal()
        m.d.comb += [
            issue.eq(active & can_issue),
            last.eq(issue & (left == 1)),
            bus.arready.eq(~active | last),
            port.rd_en.eq(issue),
            port.rd_addr.eq(addr),
        ]
        with m.If(issue):
            m.d.sync += [addr.eq(addr + 1), left.eq(left - 1)]
        burst_id = Signal.like(bus.arid)  # answered with each beat of the burst
        with m.If(bus.arvalid & bus.arready):
            m.d.sync += [
                burst_id.eq(bus.arid),
                active.eq(1),
                addr.eq(bus.araddr[self.shift :]),
                left.eq(bus.arlen + 1),
            ]
        with m.Elif(last):
            m.d.sync += active.eq(0)
        # The answer: the memory's word the cycle after it was read.
        m.d.comb += bus.rdata.eq(port.rd_data)
        with m.If(issue):
            m.d.sync += [
                bus.rid.eq(burst_id),
                bus.rvalid.eq(1),
                bus.rlast.eq(left == 1),
                inside.eq(addr < self.words),
            ]
        with m.Elif(bus.rready):
            m.d.sync += bus.rvalid.eq(0)
        m.d.comb += bus.rresp.eq(Mux(inside, OKAY, SLVERR))

    def _writes(self, m: Module) -> None:
        bus, port = self.s_axi, self.port
        word = len(port.wr_addr)
        active = Signal()
        addr = Signal(word)
        left = Signal(9)
        failed = Signal()  # a beat of this burst fell outside the memory
        beat = Signal()
        last = Signal()
        m.d.comb += [
            bus.wready.eq(active & (~bus.bvalid | bus.bready | (left != 1))),
            beat.eq(bus.wready & bus.wvalid),
            last.eq(beat & (left == 1)),
            bus.awready.eq(~active | last),
            port.wr_en.eq(beat & (addr < self.words)),
            port.wr_addr.eq(addr),
            port.wr_data.eq(bus.wdata),
            port.wr_strb.eq(bus.wstrb),
        ]
        with m.If(beat):
            m.d.sync += [addr.eq(addr + 1), left.eq(left - 1)]
            with m.If(addr >= self.words):
                m.d.sync += failed.eq(1)
        burst_id = Signal.like(bus.awid)  # answered with the burst's response
        with m.If(bus.awvalid & bus.awready):
            m.d.sync += [
                burst_id.eq(bus.awid),
                active.eq(1),
                addr.eq(bus.awaddr[self.shift :]),
                left.eq(bus.awlen + 1),
                failed.eq(0),
            ]
        with m.Elif(last):
            m.d.sync += active.eq(0)
        # One response per burst, the cycle after its last beat. A burst ends only once the
        # response before it is taken (the NPU takes each at once), so one register holds it.
        with m.If(last):
            m.d.sync += [
                bus.bid.eq(burst_id),
                bus.bvalid.eq(1),
                bus.bresp.eq(Mux(failed | (addr >= self.words), SLVERR, OKAY)),
            ]
        with m.Elif(bus.bready):
            m.d.sync += bus.bvalid.eq(0)


class BlockRam(wiring.Component):
    """A memory_port backed by FPGA block RAM: the board's system memory.

    A write lands the cycle after the port shows it: its enable, address and data are
    registered first, so that no logic before the port (the AXI4 slave's, the host port's)
    drives the many blocks of a large memory directly. It lands no later than the AXI4 write
    response (the cycle after the burst's last beat), so a master that waits for its response
    reads what it wrote; the host port's reads come long after its writes."""

    def __init__(
        self, word_addr_width: int, data_width: int, words: int, init: Sequence[int] = ()
    ) -> None:
        self.words = words
        self.data_width = data_width
        self.ram = Memory(shape=data_width, depth=words, init=init)
        super().__init__({"port": In(memory_port(word_addr_width, data_width))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.ram = ram = self.ram
        index = range(self.words)
        read = ram.read_port()
        write = ram.write_port(granularity=8)
        addr_bits = bits_for(index.stop - 1)
        m.d.comb += [
            read.en.eq(self.port.rd_en),
            read.addr.eq(self.port.rd_addr[:addr_bits]),
            self.port.rd_data.eq(read.data),
        ]
        lanes = self.data_width // 8
        m.d.sync += [
            write.addr.eq(self.port.wr_addr[:addr_bits]),
            write.data.eq(self.port.wr_data),
            write.en.eq(Mux(self.port.wr_en, self.port.wr_strb, 0)),
        ]
        assert len(write.en) == lanes
        return m
