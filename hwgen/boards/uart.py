"""8N1 UART receiver and transmitter, `divisor` clock cycles per bit."""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


class UartRx(wiring.Component):
    """Bytes as they arrive. A serial line cannot wait, so `data` has no ready: its reader
    takes each byte in the cycle it is valid. A frame whose stop bit is low is dropped."""

    def __init__(self, divisor: int) -> None:
        if divisor < 4:
            raise ValueError(f"UART divisor {divisor}: at least 4 clocks per bit")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8, always_ready=True))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(self.divisor + self.divisor // 2 + 1))
        bit = Signal(range(9))
        shift = Signal(8)
        m.d.sync += self.data.valid.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~rx):
                    # First sample in the middle of bit 0: one and a half bits on.
                    m.d.sync += [timer.eq(self.divisor + self.divisor // 2 - 1), bit.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    m.d.sync += [
                        shift.eq((shift >> 1) | (rx << 7)),
                        bit.eq(bit + 1),
                        timer.eq(self.divisor - 1),
                    ]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    with m.If(rx):
                        m.d.sync += [self.data.payload.eq(shift), self.data.valid.eq(1)]
                    m.next = "IDLE"
        return m


class UartTx(wiring.Component):
    """Sends each byte as an 8N1 frame, taken as the shifter is free. Its writer (the bridge)
    holds `valid` and `payload` in registers, so the shifter's load follows flip-flops."""

    def __init__(self, divisor: int) -> None:
        self.divisor = divisor
        super().__init__({"tx": Out(1, init=1), "data": In(stream.Signature(8))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        timer = Signal(range(self.divisor))
        # stop, data (LSB first), start: shifted out from bit 0. No reset: `tx` idles high
        # until a byte is loaded.
        bits = Signal(10, reset_less=True)
        left = Signal(range(12))  # ten bits, then one more bit time holding the stop bit
        # `left == 0` as a flip-flop: `ready` and the load then start from one (the
        # comparison, the enables and the reset made a path of seven logic levels).
        free = Signal(init=1)
        m.d.comb += self.data.ready.eq(free)
        with m.If(self.data.valid & free):
            m.d.sync += [
                bits.eq((1 << 9) | (self.data.payload << 1)),
                left.eq(11),
                timer.eq(0),
                free.eq(0),
            ]
        with m.Elif(~free):
            m.d.sync += timer.eq(timer - 1)
            with m.If(timer == 0):
                m.d.sync += [left.eq(left - 1), timer.eq(self.divisor - 1)]
                with m.If(left == 1):
                    m.d.sync += free.eq(1)
                with m.Else():
                    m.d.sync += [self.tx.eq(bits[0]), bits.eq(bits >> 1)]
        return m
