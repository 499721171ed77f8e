"""The data port: AXI4-Stream in to the memories, output buffer out to AXI4-Stream.

A memory word wider than the stream takes several beats, least significant first; the word
address advances by one per word from DMA_ADDR.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.axi import axi_stream
from hwgen.npu.csr import DmaTarget
from hwgen.npu.descriptor import ADDR


def beats(word_bits: int, data_width: int) -> int:
    return -(-word_bits // data_width)


class StreamWriter(wiring.Component):
    """Writes each beat into its lane of the selected memory's word at once (the memories
    take a lane at a time: hwgen.npu.core.write_port); the word address advances after the
    word's last beat."""

    def __init__(self, data_width: int, widths: dict[DmaTarget, int]) -> None:
        self.data_width = data_width
        self.widths = widths
        most = max(beats(w, data_width) for w in widths.values())
        super().__init__(
            {
                "stream": In(axi_stream(data_width)),
                "target": In(2),
                "start_addr": In(ADDR),
                "restart": In(1),  # DMA_TARGET or DMA_ADDR written: begin a new transfer
                "write_target": Out(2),
                "write_en": Out(1),
                "write_lane": Out(range(max(most, 2))),
                "write_addr": Out(ADDR),
                "write_data": Out(data_width),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        dw = self.data_width
        most = max(beats(w, dw) for w in self.widths.values())
        beat = Signal(range(max(most, 2)))  # never zero bits wide, even for one beat
        addr = Signal(ADDR)
        last_beat = Signal()
        for target, width in self.widths.items():
            with m.If(self.target == target):
                m.d.comb += last_beat.eq(beat == beats(width, dw) - 1)
        m.d.comb += self.stream.tready.eq(1)
        m.d.sync += self.write_en.eq(0)
        with m.If(self.restart):
            m.d.sync += [addr.eq(self.start_addr), beat.eq(0)]
        with m.Elif(self.stream.tvalid):
            m.d.sync += [
                self.write_en.eq(1),
                self.write_target.eq(self.target),
                self.write_lane.eq(beat),
                self.write_addr.eq(addr),
                self.write_data.eq(self.stream.tdata),
                beat.eq(beat + 1),
            ]
            with m.If(last_beat):
                m.d.sync += [addr.eq(addr + 1), beat.eq(0)]
        return m


class StreamReader(wiring.Component):
    """Sends `count` words of the output buffer from `addr`, TLAST on the very last beat."""

    def __init__(self, data_width: int, word_bits: int, depth: int) -> None:
        self.data_width = data_width
        self.word_bits = word_bits
        super().__init__(
            {
                "stream": Out(axi_stream(data_width)),
                "start": In(1),
                "addr": In(ADDR),
                "count": In(range(depth + 1)),
                "busy": Out(1),
                "read_addr": Out(range(depth)),
                "read_data": In(word_bits),
                "read_taken": In(1),  # the buffer read `read_addr` this cycle
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        dw = self.data_width
        n_beats = beats(self.word_bits, dw)
        addr = Signal(ADDR)
        left = Signal.like(self.count)
        beat = Signal(range(max(n_beats, 2)))  # never zero bits wide, even for one beat
        word = Signal(n_beats * dw)
        # The output buffer is single-port (hwgen.npu.spram): a read may not be taken, and
        # what it gives holds for one cycle only. So the word is read until the read is
        # taken, then kept here while it is sent.
        m.d.comb += [
            self.read_addr.eq(addr),
            self.stream.tdata.eq(word.word_select(beat, dw)),
        ]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start & (self.count != 0)):
                    m.d.sync += [addr.eq(self.addr), left.eq(self.count), beat.eq(0)]
                    m.next = "FETCH"
            with m.State("FETCH"):  # the synchronous read port takes the address
                m.d.comb += self.busy.eq(1)
                with m.If(self.read_taken):
                    m.next = "KEEP"
            with m.State("KEEP"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += word.eq(self.read_data)
                m.next = "SEND"
            with m.State("SEND"):
                m.d.comb += [
                    self.busy.eq(1),
                    self.stream.tvalid.eq(1),
                    self.stream.tlast.eq((left == 1) & (beat == n_beats - 1)),
                ]
                with m.If(self.stream.tready):
                    m.d.sync += beat.eq(beat + 1)
                    with m.If(beat == n_beats - 1):
                        m.d.sync += [addr.eq(addr + 1), left.eq(left - 1), beat.eq(0)]
                        m.next = "IDLE"
                        with m.If(left != 1):
                            m.next = "FETCH"
        return m
