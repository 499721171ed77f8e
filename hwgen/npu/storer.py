"""The storer: a STORE command's DMA, words of an output bank to system memory over the AXI4
write channels (hwgen.npu.commands).

Words are read from the bank in order from `local_addr` into a short queue, ahead of their
beats, and sent a beat (lane) at a time, so beats leave one per cycle while the memory takes
them. Each beat passes a register before the bus (a register slice on W): a block RAM's output
is slow (5.8 ns on an ECP5), and with the route to system memory's write register it held the
ULX3S at 76 MHz. Done once every burst's response is in: the data is in system memory then. A
store of B beats takes store_duration(B) cycles.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.npu.axi import INCR, OKAY
from hwgen.npu.axi_memory import ReadQueue
from hwgen.npu.commands import PATTERN
from hwgen.npu.core import OUT_READ_LATENCY
from hwgen.npu.dma import MAX_BURST, BurstWalker

# Bursts taken ahead of their address handshake and their last beat. A burst's words are read
# once it is taken, so with bursts of one beat the bursts taken must cover every word between a
# take and its beat: the count of words registered, the read (OUT_READ_LATENCY) and the read
# queue's two; with fewer, one-beat bursts left gaps between beats.
BURSTS = OUT_READ_LATENCY + 3


def store_duration(beats: int) -> int:
    """Cycles from the one where the storer sees `start` to the one of its `done` pulse: the
    walker's first burst (offered the cycle after start, taken at once), the count of words to
    read, the memory's OUT_READ_LATENCY, the read queue, the W register; the beats; the last
    burst's response, and `done` registered."""
    return 6 + OUT_READ_LATENCY + beats


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
        # Each burst the walker makes is taken at once into two queues: its address for the AW
        # channel, its length for the beats. The words of bursts taken are read ahead, so
        # beats wait on neither the address handshake nor the memory.
        m.submodules.addresses = addresses = fifo.SyncFIFOBuffered(
            width=self.addr_width + 8, depth=BURSTS
        )
        m.submodules.lengths = lengths = fifo.SyncFIFO(width=9, depth=BURSTS)
        take = walker.burst.valid & walker.burst.ready
        m.d.comb += [
            walker.start.eq(self.start),
            walker.base.eq(self.dst),
            *(getattr(walker, name).eq(getattr(self, name)) for name in PATTERN),
            walker.burst.ready.eq(addresses.w_rdy & lengths.w_rdy),
            addresses.w_en.eq(take),
            addresses.w_data.eq(Cat(walker.burst.addr, walker.burst.beats - 1)),
            lengths.w_en.eq(take),
            lengths.w_data.eq(walker.burst.beats),
            self.awvalid.eq(addresses.r_rdy),
            self.awaddr.eq(addresses.r_data[: self.addr_width]),
            self.awlen.eq(addresses.r_data[self.addr_width :]),
            addresses.r_en.eq(self.awready),
            self.awsize.eq(exact_log2(dw // 8)),
            self.awburst.eq(INCR),
            self.bready.eq(1),
            self.wstrb.eq(-1),
        ]
        # Beats of the bursts taken and beats sent; responses expected and received.
        asked = Signal(32)
        sent = Signal(32)
        bursts = Signal(16)
        responses = Signal(16)
        with m.If(take):
            m.d.sync += [asked.eq(asked + walker.burst.beats), bursts.eq(bursts + 1)]
        with m.If(self.bvalid & self.bready):
            m.d.sync += responses.eq(responses + 1)
            with m.If(self.bresp != OKAY):
                m.d.sync += self.bus_error.eq(1)

        # Words of the bursts taken, read in order from `word` while the queue has room: the
        # decision to read comes from flip-flops only, as it reaches the memory's enable.
        # `unread` counts the words of the bursts taken not yet read (a burst is whole words).
        # A burst's words are read before its last beat leaves its queue, so no more than
        # BURSTS bursts' words are unread: a narrow count, whose carry chain is short. The
        # count with this cycle's burst is summed beside the queue's decision, which then
        # only chooses it or one less.
        m.submodules.words = words = ReadQueue(self.lanes * dw, latency=OUT_READ_LATENCY)
        word = Signal(16)
        bank = Signal()
        unread = Signal(range(BURSTS * MAX_BURST + 1))
        any_unread = Signal()
        burst_words = walker.burst.beats[exact_log2(self.lanes) :]
        counted = Signal.like(unread)
        m.d.comb += [
            words.want.eq(any_unread),
            self.read_en.eq(words.issue),
            self.read_bank.eq(bank),
            self.read_addr.eq(word),
            words.data.eq(self.read_data),
            counted.eq(unread + Mux(take, burst_words, 0)),
        ]
        m.d.sync += [
            unread.eq(Mux(words.issue, counted - 1, counted)),
            any_unread.eq(Mux(words.issue, counted > 1, counted != 0)),
        ]
        with m.If(words.issue):
            m.d.sync += word.eq(word + 1)
            with m.If(word >= self.depth):
                m.d.sync += self.out_of_bank.eq(1)

        # Beats: a word's lanes in turn into the W register, which takes one while empty or
        # emptying (a register slice). `beat` is a beat moving into it.
        lane = Signal(range(max(self.lanes, 2)))
        last_lane = lane == self.lanes - 1
        in_burst = Signal(range(MAX_BURST + 1))  # beats of the current burst sent
        w_valid, w_ready, w_last = Signal(), Signal(), Signal()
        beat = w_valid & w_ready
        m.d.comb += [
            w_valid.eq(words.valid & lengths.r_rdy),
            w_ready.eq(~self.wvalid | self.wready),
            w_last.eq(in_burst + 1 == lengths.r_data),
            lengths.r_en.eq(beat & w_last),
            words.ready.eq(beat & last_lane),
        ]
        with m.If(beat):
            m.d.sync += [
                self.wvalid.eq(1),
                self.wdata.eq(words.word.word_select(lane, dw)),
                self.wlast.eq(w_last),
                sent.eq(sent + 1),
                lane.eq(Mux(last_lane, 0, lane + 1)),
                in_burst.eq(Mux(w_last, 0, in_burst + 1)),
            ]
        with m.Elif(self.wready):
            m.d.sync += self.wvalid.eq(0)

        # Done the cycle after the last response arrives: registered, as the comparisons of
        # counts behind it reach the sequencer's decisions.
        finishing = Signal()
        m.d.comb += finishing.eq(
            self.busy
            & ~self.done
            & walker.idle
            & (sent == asked)
            & (responses + (self.bvalid & self.bready) == bursts)
        )
        m.d.sync += self.done.eq(finishing)
        with m.If(self.done):
            m.d.sync += self.busy.eq(0)
        with m.If(self.start):
            m.d.sync += [
                self.busy.eq(1),
                asked.eq(0),
                sent.eq(0),
                unread.eq(0),
                any_unread.eq(0),
                bursts.eq(0),
                responses.eq(0),
                word.eq(self.local_addr),
                bank.eq(self.bank),
                lane.eq(0),
                in_burst.eq(0),
                self.bus_error.eq(0),
                self.out_of_bank.eq(0),
            ]
        return m
