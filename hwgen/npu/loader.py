"""The loader: a LOAD command's DMA, system memory into a bank of a local buffer over the AXI4
read channels (hwgen.npu.commands). Also the program fetch: the dispatcher asks it to copy a
program into the command memory the same way.

Each beat is written into its lane of the target word the cycle after it arrives (the buffers
are written a lane at a time, hwgen.npu.core.write_port); the word address advances after a
word's last lane. A word beyond the bank is not written (the command fails with OUT_OF_BANK).
Every beat is taken as it comes (rready is always high), so a load of B beats takes
load_duration(B) cycles whatever its bursts.
"""

from __future__ import annotations

import enum

from amaranth import Cat, Module, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.npu.axi import INCR, OKAY
from hwgen.npu.axi_memory import READ_LATENCY
from hwgen.npu.commands import PATTERN
from hwgen.npu.dma import BurstWalker


class Target(enum.IntEnum):
    """Where a load writes: the three buffers a LOAD names (commands.Buffer), and the command
    memory (the program fetch)."""

    ACT = 0
    WEIGHT = 1
    PARAM = 2
    PROGRAM = 3


def load_duration(beats: int) -> int:
    """Cycles from the one where the loader sees `start` to the one of its `done` pulse: the
    walker's two registers, the address queue's two, the read latency, the beats, the last
    one's write, and `done` registered."""
    return 5 + READ_LATENCY + beats


def target_port() -> wiring.Signature:
    """What the loader drives for one target: a lane's write enable per beat."""
    return wiring.Signature({"en": Out(1), "lane": Out(8), "bank": Out(1), "addr": Out(16)})


class Loader(wiring.Component):
    def __init__(
        self, addr_width: int, data_width: int, lanes: dict[Target, int], depths: dict[Target, int]
    ) -> None:
        """`lanes`: beats per word of each target; `depths`: words per bank."""
        self.addr_width = addr_width
        self.data_width = data_width
        self.lanes = lanes
        self.depths = depths
        super().__init__(
            {
                "start": In(1),
                "target": In(2),
                "bank": In(1),
                "flip": In(1),  # invert each byte's top bit (activations only)
                "local_addr": In(16),
                "src": In(addr_width),
                **{name: In(shape) for name, shape in PATTERN.items()},
                "busy": Out(1),
                "done": Out(1),  # a pulse: the last word is written
                "bus_error": Out(1),  # held from done until the next start
                "out_of_bank": Out(1),
                # The AXI4 read channels (the write channels belong to the storer).
                "araddr": Out(addr_width),
                "arlen": Out(8),
                "arsize": Out(3),
                "arburst": Out(2),
                "arvalid": Out(1),
                "arready": In(1),
                "rdata": In(data_width),
                "rresp": In(2),
                "rvalid": In(1),
                "rready": Out(1),
                # The write side: one beat, to the lane of the word of the target named.
                "write_en": Out(1),
                "write_target": Out(2),
                "write_bank": Out(1),
                "write_addr": Out(16),
                "write_lane": Out(8),
                "write_data": Out(data_width),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        dw = self.data_width
        m.submodules.walker = walker = BurstWalker(self.addr_width, dw)
        m.d.comb += [
            walker.start.eq(self.start),
            walker.base.eq(self.src),
            *(getattr(walker, name).eq(getattr(self, name)) for name in PATTERN),
            self.arsize.eq(exact_log2(dw // 8)),
            self.arburst.eq(INCR),
            self.rready.eq(1),
        ]
        # Bursts wait in a queue for the address handshake: the walker's registers follow
        # its flags, not the bus's `arready`. Four deep: a burst a cycle through its two
        # registers.
        m.submodules.addresses = addresses = fifo.SyncFIFOBuffered(
            width=self.addr_width + 9, depth=4
        )
        m.d.comb += [
            addresses.w_en.eq(walker.burst.valid),
            addresses.w_data.eq(Cat(walker.burst.addr, walker.burst.beats)),
            walker.burst.ready.eq(addresses.w_rdy),
            self.arvalid.eq(addresses.r_rdy),
            self.araddr.eq(addresses.r_data[: self.addr_width]),
            self.arlen.eq(addresses.r_data[self.addr_width :] - 1),
            addresses.r_en.eq(self.arready),
        ]
        burst_beats = addresses.r_data[self.addr_width :]
        # Beats asked for (bursts accepted) and beats received: done when the walker is
        # idle and every beat asked for has been written.
        asked = Signal(32)
        received = Signal(32)
        target = Signal(2)
        bank = Signal()
        flip = Signal()
        word = Signal(16)
        lane = Signal(8)
        last_lane = Signal(8)  # beats per word of the target, less one
        depth = Signal(16)
        with m.If(self.arvalid & self.arready):
            m.d.sync += asked.eq(asked + burst_beats)
        beat = self.rvalid & self.rready
        flipped = Signal(dw)
        m.d.comb += flipped.eq(self.rdata ^ Cat(*([0] * 7 + [flip]) * (dw // 8)))
        m.d.sync += self.write_en.eq(0)
        with m.If(beat):
            in_bank = word < depth
            m.d.sync += [
                received.eq(received + 1),
                self.write_en.eq(in_bank),
                self.write_target.eq(target),
                self.write_bank.eq(bank),
                self.write_addr.eq(word),
                self.write_lane.eq(lane),
                self.write_data.eq(flipped),
                lane.eq(lane + 1),
            ]
            with m.If(lane == last_lane):
                m.d.sync += [lane.eq(0), word.eq(word + 1)]
            with m.If(~in_bank):
                m.d.sync += self.out_of_bank.eq(1)
            with m.If(self.rresp != OKAY):
                m.d.sync += self.bus_error.eq(1)
        # The last beat's write is the cycle after it arrived; done the cycle after that,
        # registered, as the comparison of counts behind it reaches the sequencer's decisions.
        finishing = Signal()
        m.d.comb += finishing.eq(
            self.busy
            & ~self.done
            & walker.idle
            & (addresses.level == 0)
            & (received == asked)
            & ~beat
        )
        m.d.sync += self.done.eq(finishing)
        with m.If(self.done):
            m.d.sync += self.busy.eq(0)
        with m.If(self.start):
            m.d.sync += [
                self.busy.eq(1),
                asked.eq(0),
                received.eq(0),
                target.eq(self.target),
                bank.eq(self.bank),
                flip.eq(self.flip & (self.target == Target.ACT)),
                word.eq(self.local_addr),
                lane.eq(0),
                self.bus_error.eq(0),
                self.out_of_bank.eq(0),
            ]
            for t, count in self.lanes.items():
                with m.If(self.target == t):
                    m.d.sync += [last_lane.eq(count - 1), depth.eq(self.depths[t])]
        return m
