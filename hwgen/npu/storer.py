"""The storer: a STORE command's DMA, words of an output bank to system memory over the AXI4
write channels (hwgen.npu.commands).

Words are read from the bank in order from `local_addr` and sent a beat (lane) at a time; the
read of the next word is asked for as the last lane of the current one leaves, so beats leave
one per cycle while the memory takes them. Done once every burst's response is in: the data is
in system memory then. A store of B beats takes store_duration(B) cycles.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.npu.axi import INCR, OKAY
from hwgen.npu.commands import PATTERN
from hwgen.npu.dma import MAX_BURST, BurstWalker


def store_duration(beats: int) -> int:
    """Cycles from the one where the storer sees `start` to the one of its `done` pulse: the
    walker's two registers (its first burst offered, and the first word read, two cycles on),
    the beats, the last burst's response."""
    return 3 + beats


class Storer(wiring.Component):
    def __init__(self, addr_width: int, data_width: int, word_bits: int, depth: int) -> None:
        """Words of `word_bits` (a whole number of beats), `depth` of them per bank."""
        self.addr_width = addr_width
        self.data_width = data_width
        self.lanes = word_bits // data_width
        assert self.lanes * data_width == word_bits and self.lanes >= 1
        self.depth = depth
        super().__init__(
            {
                "start": In(1),
                "bank": In(1),
                "local_addr": In(16),
                "dst": In(addr_width),
                **{name: In(shape) for name, shape in PATTERN.items()},
                "busy": Out(1),
                "done": Out(1),  # a pulse: the last response is in
                "bus_error": Out(1),
                "out_of_bank": Out(1),
                "read_en": Out(1),
                "read_bank": Out(1),
                "read_addr": Out(16),
                "read_data": In(word_bits),
                "awaddr": Out(addr_width),
                "awlen": Out(8),
                "awsize": Out(3),
                "awburst": Out(2),
                "awvalid": Out(1),
                "awready": In(1),
                "wdata": Out(data_width),
                "wstrb": Out(data_width // 8),
                "wlast": Out(1),
                "wvalid": Out(1),
                "wready": In(1),
                "bresp": In(2),
                "bvalid": In(1),
                "bready": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        dw = self.data_width
        m.submodules.walker = walker = BurstWalker(self.addr_width, dw)
        # Each burst's length, from its address handshake to its last beat. Unbuffered: a length
        # is readable the cycle after its address is taken, which is as soon as the memory
        # takes the burst's first beat.
        m.submodules.lengths = lengths = fifo.SyncFIFO(width=9, depth=4)
        aw = self.awvalid & self.awready
        m.d.comb += [
            walker.start.eq(self.start),
            walker.base.eq(self.dst),
            *(getattr(walker, name).eq(getattr(self, name)) for name in PATTERN),
            self.awaddr.eq(walker.burst.addr),
            self.awlen.eq(walker.burst.beats - 1),
            self.awsize.eq(exact_log2(dw // 8)),
            self.awburst.eq(INCR),
            # A burst's address goes out only where its length can wait for its beats.
            self.awvalid.eq(walker.burst.valid & lengths.w_rdy),
            walker.burst.ready.eq(self.awready & lengths.w_rdy),
            lengths.w_en.eq(aw),
            lengths.w_data.eq(walker.burst.beats),
            self.bready.eq(1),
            self.wstrb.eq(-1),
        ]
        # Beats asked for (bursts accepted) and beats sent; responses expected and received.
        asked = Signal(32)
        sent = Signal(32)
        bursts = Signal(16)
        responses = Signal(16)
        with m.If(aw):
            m.d.sync += [asked.eq(asked + walker.burst.beats), bursts.eq(bursts + 1)]
        with m.If(self.bvalid & self.bready):
            m.d.sync += responses.eq(responses + 1)
            with m.If(self.bresp != OKAY):
                m.d.sync += self.bus_error.eq(1)

        # Words: `word` is the next to read; the memory gives the word read the cycle before
        # and holds it while not asked for another.
        word = Signal(16)
        bank = Signal()
        lane = Signal(range(max(self.lanes, 2)))
        holding = Signal()  # the memory's output is a word not yet all sent
        in_burst = Signal(range(MAX_BURST + 1))  # beats of the current burst sent
        beat = self.wvalid & self.wready
        last_lane = lane == self.lanes - 1
        m.d.comb += [
            self.read_bank.eq(bank),
            self.read_addr.eq(word),
            self.wvalid.eq(holding & lengths.r_rdy),
            self.wdata.eq(self.read_data.word_select(lane, dw)),
            self.wlast.eq(lengths.r_rdy & (in_burst + 1 == lengths.r_data)),
            lengths.r_en.eq(beat & self.wlast),
        ]
        # Ask for the next word when none is held or the held one's last lane is leaving,
        # while the bursts asked for and the one the walker offers have beats not yet covered
        # by words read: the next burst's first word is read before its address is taken, so
        # its beats follow the last burst's with no gap.
        #
        # Counted in words, as flags: `gap` is the words of the bursts asked for not yet read.
        # It is -1 at least (one word is read ahead of its burst's address at most: it is held
        # until its burst is asked for), and a burst is whole words. So the bursts asked for
        # and the one offered have a word to read if gap > 0, or if a burst is offered and gap
        # is 0, or it is -1 and the burst has two words or more. The comparison of beat
        # counts this replaces, in front of the output memory's read port, was the ULX3S's
        # critical path (71 MHz).
        read = Signal()
        shift = exact_log2(self.lanes)
        gap = Signal(signed(17))
        gap_positive, gap_nonnegative = Signal(), Signal(init=1)
        burst_words = walker.burst.beats[shift:]
        m.d.comb += [
            read.eq(
                (~holding | (beat & last_lane))
                & (gap_positive | (self.awvalid & (gap_nonnegative | (burst_words > 1))))
            ),
            self.read_en.eq(read),
        ]
        next_gap = Signal.like(gap)
        m.d.comb += next_gap.eq(gap + Mux(aw, burst_words, 0) - read)
        m.d.sync += [
            gap.eq(next_gap),
            gap_positive.eq(next_gap > 0),
            gap_nonnegative.eq(next_gap >= 0),
        ]
        with m.If(read):
            m.d.sync += [
                word.eq(word + 1),
                holding.eq(1),
            ]
            with m.If(word >= self.depth):
                m.d.sync += self.out_of_bank.eq(1)
        with m.Elif(beat & last_lane):
            m.d.sync += holding.eq(0)
        with m.If(beat):
            m.d.sync += [sent.eq(sent + 1), lane.eq(lane + 1), in_burst.eq(in_burst + 1)]
            with m.If(last_lane):
                m.d.sync += lane.eq(0)
            with m.If(self.wlast):
                m.d.sync += in_burst.eq(0)

        # Done in the cycle the last response arrives.
        finishing = Signal()
        m.d.comb += finishing.eq(
            self.busy
            & walker.idle
            & (sent == asked)
            & (responses + (self.bvalid & self.bready) == bursts)
        )
        m.d.comb += self.done.eq(finishing)
        with m.If(finishing):
            m.d.sync += self.busy.eq(0)
        with m.If(self.start):
            m.d.sync += [
                self.busy.eq(1),
                asked.eq(0),
                sent.eq(0),
                gap.eq(0),
                gap_positive.eq(0),
                gap_nonnegative.eq(1),
                bursts.eq(0),
                responses.eq(0),
                word.eq(self.local_addr),
                bank.eq(self.bank),
                lane.eq(0),
                holding.eq(0),
                in_burst.eq(0),
                self.bus_error.eq(0),
                self.out_of_bank.eq(0),
            ]
        return m
