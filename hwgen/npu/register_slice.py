"""A register slice: a stream through registers in both directions, a beat every cycle.

Its `i.ready` is a register, so nothing of what the receiver decides reaches the sender in the
same cycle: a beat taken while the output is held waits in a second register (the skid) and
`i.ready` falls the cycle after. A beat leaves the cycle after it was taken.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


class RegisterSlice(wiring.Component):
    def __init__(self, width: int) -> None:
        self.width = width
        super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(width))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        skid = Signal(self.width)
        skid_valid = Signal()
        taken = self.i.valid & self.i.ready
        m.d.comb += self.i.ready.eq(~skid_valid)
        with m.If(~self.o.valid | self.o.ready):
            # The output moves: from the skid if it holds a beat (then nothing is taken), or
            # from the input.
            with m.If(skid_valid):
                m.d.sync += [self.o.payload.eq(skid), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(taken)]
        with m.Elif(taken):
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        return m
