"""The DMA's address side: a LOAD's or STORE's access pattern (hwgen.npu.commands.Pattern) as
AXI4 bursts, one per cycle: each chunk split where it would cross a 4 KiB page (AXI forbids a
burst to) or exceed 256 beats. Addresses are beat-aligned (the dispatcher refuses others)."""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.npu.commands import PATTERN

PAGE = 4096
MAX_BURST = 256


def beats(word_bits: int, data_width: int) -> int:
    """Beats that one memory word takes on the bus."""
    return -(-word_bits // data_width)


def burst_signature(addr_width: int) -> wiring.Signature:
    """A burst, as the walker hands it on: byte address and beats (1 to 256)."""
    return wiring.Signature(
        {
            "valid": Out(1),
            "ready": In(1),
            "addr": Out(addr_width),
            "beats": Out(range(MAX_BURST + 1)),
        }
    )


class BurstWalker(wiring.Component):
    """`start` (a pulse) with `base` and the pattern fields valid; bursts then leave one per
    cycle while `burst.ready`; `idle` once the last has left (and before the first start)."""

    def __init__(self, addr_width: int, data_width: int) -> None:
        self.addr_width = addr_width
        self.shift = exact_log2(data_width // 8)
        super().__init__(
            {
                "start": In(1),
                "base": In(addr_width),
                **{name: In(shape) for name, shape in PATTERN.items()},
                "burst": Out(burst_signature(addr_width)),
                "idle": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        out = self.burst
        running = Signal()
        addr = Signal(self.addr_width)  # where the next burst starts
        row = Signal(self.addr_width)  # the current row's first chunk (i1)
        chunk = Signal(self.addr_width)  # the current chunk (i0)
        left = Signal.like(self.chunk_beats)  # beats of the chunk not yet in a burst
        i0 = Signal.like(self.n0)
        i1 = Signal.like(self.n1)
        n0, n1, beats_per_chunk = Signal.like(self.n0), Signal.like(self.n1), Signal.like(left)
        stride0, stride1 = Signal.like(self.stride0), Signal.like(self.stride1)

        # The next burst: what is left of the chunk, cut at the page's end and at 256 beats.
        # What decides it is in registers: the beats to the page's end (`to_page`, kept with
        # `addr`), whether the chunk is its row's last and the row the last (kept with i0 and
        # i1), and whether the rest of the chunk is one burst (`chunk_done`, kept with `left`
        # and `to_page`). Decided in the cycle from `addr` and the indices, the subtraction,
        # comparisons and choice in a row reached every register of the walk (the ULX3S's
        # critical path at 76 MHz); with the comparison of `left` in front, still 10.3 ns.
        page_beats = PAGE >> self.shift
        to_page = Signal(range(page_beats + 1))
        last_chunk_of_row = Signal()
        last_row = Signal()
        chunk_done = Signal()
        # Whether a whole chunk is one burst where it starts `fit` beats or fewer into a
        # page: a chunk's start then only meets `fit` in one comparison.
        one_burst = min(page_beats, MAX_BURST)
        chunk_fits = Signal()
        fit = Signal(range(page_beats + 1))

        def room(address: Value) -> Value:
            return page_beats - address[self.shift : 12]

        def starts_done(address: Value) -> Value:
            """Whether a chunk starting at `address` is one burst."""
            return chunk_fits & (address[self.shift : 12] <= fit)

        cut = Mux(to_page < MAX_BURST, to_page, MAX_BURST)  # a burst that does not end the chunk
        size = Mux(chunk_done, left, cut)
        # After a cut, whether the rest is one burst: at a page's end the next page is whole,
        # elsewhere both ends of the cut move by 256 beats.
        rest_done = Mux(
            to_page <= MAX_BURST,
            left - to_page <= one_burst,
            (left <= to_page) & (left <= 2 * MAX_BURST),
        )

        advance = running & (~out.valid | out.ready)
        with m.If(out.ready):
            m.d.sync += out.valid.eq(0)
        with m.If(advance):
            m.d.sync += [out.valid.eq(1), out.addr.eq(addr), out.beats.eq(size)]
            with m.If(~chunk_done):
                m.d.sync += [
                    addr.eq(addr + (cut << self.shift)),
                    left.eq(left - cut),
                    # Cut at the page's end: the next burst starts a page.
                    to_page.eq(Mux(to_page <= MAX_BURST, page_beats, to_page - MAX_BURST)),
                    chunk_done.eq(rest_done),
                ]
            with m.Elif(~last_chunk_of_row):  # the next chunk of the row
                m.d.sync += [
                    i0.eq(i0 + 1),
                    chunk.eq(chunk + stride0),
                    addr.eq(chunk + stride0),
                    to_page.eq(room(chunk + stride0)),
                    left.eq(beats_per_chunk),
                    chunk_done.eq(starts_done(chunk + stride0)),
                    last_chunk_of_row.eq(i0 + 2 == n0),
                ]
            with m.Elif(~last_row):  # the first chunk of the next row
                m.d.sync += [
                    i0.eq(0),
                    i1.eq(i1 + 1),
                    row.eq(row + stride1),
                    chunk.eq(row + stride1),
                    addr.eq(row + stride1),
                    to_page.eq(room(row + stride1)),
                    left.eq(beats_per_chunk),
                    chunk_done.eq(starts_done(row + stride1)),
                    last_chunk_of_row.eq(n0 == 1),
                    last_row.eq(i1 + 2 == n1),
                ]
            with m.Else():
                m.d.sync += running.eq(0)
        with m.If(self.start):
            beats = self.chunk_beats
            m.d.sync += [
                running.eq((self.n0 != 0) & (self.n1 != 0) & (beats != 0)),
                addr.eq(self.base),
                to_page.eq(room(self.base)),
                row.eq(self.base),
                chunk.eq(self.base),
                left.eq(beats),
                chunk_done.eq((beats <= room(self.base)) & (beats <= MAX_BURST)),
                chunk_fits.eq(beats <= one_burst),
                fit.eq(page_beats - beats),
                i0.eq(0),
                i1.eq(0),
                n0.eq(self.n0),
                n1.eq(self.n1),
                last_chunk_of_row.eq(self.n0 == 1),
                last_row.eq(self.n1 == 1),
                beats_per_chunk.eq(beats),
                stride0.eq(self.stride0),
                stride1.eq(self.stride1),
            ]
        m.d.comb += self.idle.eq(~running & ~out.valid)
        return m
