"""The NPU behind the UART bridge: `BridgedNpu` is what the co-simulation runs, `BoardTop`
puts it on a board's pins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amaranth import Elaboratable, Module
from amaranth.lib import io, wiring
from amaranth.lib.wiring import In, Out

from hwgen.boards.bridge import Bridge
from hwgen.boards.uart import UartRx, UartTx
from hwgen.errors import HwgenError
from hwgen.npu import csr
from hwgen.npu.axi import AxiLiteRegisterSlice, AxiStreamRegisterSlice
from hwgen.npu.config import NpuConfig
from hwgen.npu.device import is_ice40
from hwgen.npu.top import Npu


class BridgedNpu(wiring.Component):
    def __init__(
        self,
        config: NpuConfig,
        divisor: int,
        *,
        weight_init: Sequence[int] = (),
        byte_timeout: int | None = None,
        stream_timeout: int = 1 << 20,
    ) -> None:
        self.config = config
        self.divisor = divisor
        self.weight_init = weight_init
        # A request silent for this long mid-frame is dropped: 64 bit times by default.
        self.byte_timeout = byte_timeout or 64 * divisor
        self.stream_timeout = stream_timeout
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "irq": Out(1)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        m.submodules.npu = npu = Npu(cfg, self.weight_init)
        m.submodules.bridge = bridge = Bridge(
            csr.ADDR_WIDTH,
            cfg.data_width,
            byte_timeout=self.byte_timeout,
            stream_timeout=self.stream_timeout,
        )
        m.submodules.uart_rx = uart_rx = UartRx(self.divisor)
        m.submodules.uart_tx = uart_tx = UartTx(self.divisor)
        wiring.connect(m, uart_rx.data, bridge.rx)
        wiring.connect(m, bridge.tx, uart_tx.data)
        # Registers on every channel between the bridge and the NPU: no path from the bridge's
        # FSM reaches into the NPU's memories in one cycle. Both sides are far faster than the
        # UART, so a transfer every other cycle costs nothing. Not on an iCE40: it has no
        # logic cells to spare (docs/npu.md, "Pipelining, for the clock").
        if is_ice40(platform):
            wiring.connect(m, bridge.m_axil, npu.s_axil)
            wiring.connect(m, bridge.m_axis, npu.s_axis)
            wiring.connect(m, npu.m_axis, bridge.s_axis)
        else:
            m.submodules.axil_slice = axil_slice = AxiLiteRegisterSlice(csr.ADDR_WIDTH)
            m.submodules.to_npu = to_npu = AxiStreamRegisterSlice(cfg.data_width)
            m.submodules.from_npu = from_npu = AxiStreamRegisterSlice(cfg.data_width)
            wiring.connect(m, bridge.m_axil, axil_slice.s_axil)
            wiring.connect(m, axil_slice.m_axil, npu.s_axil)
            wiring.connect(m, bridge.m_axis, to_npu.s_axis)
            wiring.connect(m, to_npu.m_axis, npu.s_axis)
            wiring.connect(m, npu.m_axis, from_npu.s_axis)
            wiring.connect(m, from_npu.m_axis, bridge.s_axis)
        m.d.comb += [
            uart_rx.rx.eq(self.rx),
            self.tx.eq(uart_tx.tx),
            self.irq.eq(npu.irq),
        ]
        return m


def uart_divisor(clock_hz: float, baud: int) -> int:
    """Clocks per bit, for a rate the clock can make within 2 %."""
    divisor = round(clock_hz / baud)
    if divisor < 4 or abs(clock_hz / divisor - baud) > 0.02 * baud:
        raise HwgenError(f"{baud} baud is not within 2 % of {clock_hz / 1e6:g} MHz / n (n >= 4)")
    return divisor


class BoardTop(Elaboratable):
    """The bridged NPU on the board's UART, its interrupt on the first LED."""

    def __init__(self, config: NpuConfig, divisor: int) -> None:
        self.config = config
        self.divisor = divisor

    def elaborate(self, platform: Any) -> Module:  # an amaranth Platform
        m = Module()
        m.submodules.npu = npu = BridgedNpu(self.config, self.divisor)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_pin = rx_pin = io.Buffer("i", uart.rx)
        m.submodules.tx_pin = tx_pin = io.Buffer("o", uart.tx)
        m.submodules.led_pin = led_pin = io.Buffer("o", platform.request("led", 0, dir="-"))
        m.d.comb += [npu.rx.eq(rx_pin.i), tx_pin.o.eq(npu.tx), led_pin.o.eq(npu.irq)]
        if ("uart_tx_enable", 0) in platform.resources:  # the ULX3S gates its FTDI's receive
            enable = platform.request("uart_tx_enable", 0, dir="-")
            m.submodules.tx_enable_pin = tx_enable = io.Buffer("o", enable)
            m.d.comb += tx_enable.o.eq(1)
        return m
