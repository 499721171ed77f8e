"""The NPU behind the UART bridge, with its system memory: `BridgedNpu` is what the bridge's
co-simulation runs, `BoardTop` puts it on a board's pins."""

from __future__ import annotations

from typing import Any

from amaranth import Elaboratable, Module, Mux
from amaranth.lib import io, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.boards.bridge import Bridge
from hwgen.boards.host_port import ADDR_WIDTH as HOST_ADDR_WIDTH
from hwgen.boards.host_port import AxiLiteSplit, HostPort
from hwgen.boards.uart import UartRx, UartTx
from hwgen.errors import HwgenError
from hwgen.npu.axi import AxiLiteRegisterSlice, AxiStreamRegisterSlice
from hwgen.npu.axi_memory import AxiMemory, BlockRam
from hwgen.npu.config import NpuConfig
from hwgen.npu.device import is_ice40
from hwgen.npu.top import ADDR_WIDTH, Npu


class BridgedNpu(wiring.Component):
    """The NPU, its system memory (block RAM behind the AXI4 memory the co-simulation models
    too), and the UART bridge: its register requests go to the NPU or to the host port
    (hwgen.boards.host_port), its data stream into and out of system memory."""

    def __init__(
        self,
        config: NpuConfig,
        divisor: int,
        sysmem_bytes: int,
        *,
        byte_timeout: int | None = None,
        stream_timeout: int = 1 << 20,
    ) -> None:
        self.config = config
        self.divisor = divisor
        beat = config.data_width // 8
        self.sysmem_bytes = -(-sysmem_bytes // beat) * beat
        # A request silent for this long mid-frame is dropped: 64 bit times by default.
        self.byte_timeout = byte_timeout or 64 * divisor
        self.stream_timeout = stream_timeout
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "irq": Out(1)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        dw = cfg.data_width
        words = self.sysmem_bytes // (dw // 8)
        word_addr = ADDR_WIDTH - exact_log2(dw // 8)
        m.submodules.npu = npu = Npu(cfg)
        m.submodules.memory = memory = AxiMemory(ADDR_WIDTH, dw)
        m.submodules.ram = ram = BlockRam(word_addr, dw, words)
        m.submodules.host = host = HostPort(dw, word_addr, self.sysmem_bytes)
        m.submodules.split = split = AxiLiteSplit()
        m.submodules.bridge = bridge = Bridge(
            HOST_ADDR_WIDTH,
            dw,
            byte_timeout=self.byte_timeout,
            stream_timeout=self.stream_timeout,
        )
        m.submodules.uart_rx = uart_rx = UartRx(self.divisor)
        m.submodules.uart_tx = uart_tx = UartTx(self.divisor)
        wiring.connect(m, uart_rx.data, bridge.rx)
        wiring.connect(m, bridge.tx, uart_tx.data)
        wiring.connect(m, npu.m_axi, memory.s_axi)
        m.d.comb += memory.size.eq(self.sysmem_bytes)
        wiring.connect(m, split.npu, npu.s_axil)
        wiring.connect(m, split.port, host.s_axil)
        # Registers on every channel between the bridge and the rest: no path from the
        # bridge's FSM reaches into the NPU's memories in one cycle. Both sides are far faster
        # than the UART, so a transfer every other cycle costs nothing. Not on an iCE40: it has
        # no logic cells to spare (docs/npu.md, "Pipelining, for the clock").
        if is_ice40(platform):
            wiring.connect(m, bridge.m_axil, split.s_axil)
            wiring.connect(m, bridge.m_axis, host.s_axis)
            wiring.connect(m, host.m_axis, bridge.s_axis)
        else:
            m.submodules.axil_slice = axil_slice = AxiLiteRegisterSlice(HOST_ADDR_WIDTH)
            m.submodules.to_memory = to_memory = AxiStreamRegisterSlice(dw)
            m.submodules.from_memory = from_memory = AxiStreamRegisterSlice(dw)
            wiring.connect(m, bridge.m_axil, axil_slice.s_axil)
            wiring.connect(m, axil_slice.m_axil, split.s_axil)
            wiring.connect(m, bridge.m_axis, to_memory.s_axis)
            wiring.connect(m, to_memory.m_axis, host.s_axis)
            wiring.connect(m, host.m_axis, from_memory.s_axis)
            wiring.connect(m, from_memory.m_axis, bridge.s_axis)
        # The memory's ports: the host port's while it moves data (the NPU is idle then), the
        # NPU's otherwise.
        for name in ("rd_en", "rd_addr", "wr_en", "wr_addr", "wr_data", "wr_strb"):
            m.d.comb += getattr(ram.port, name).eq(
                Mux(host.active, getattr(host.port, name), getattr(memory.port, name))
            )
        m.d.comb += [
            memory.port.rd_data.eq(ram.port.rd_data),
            host.port.rd_data.eq(ram.port.rd_data),
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

    def __init__(self, config: NpuConfig, divisor: int, sysmem_bytes: int) -> None:
        self.config = config
        self.divisor = divisor
        self.sysmem_bytes = sysmem_bytes

    def elaborate(self, platform: Any) -> Module:  # an amaranth Platform
        m = Module()
        m.submodules.npu = npu = BridgedNpu(self.config, self.divisor, self.sysmem_bytes)
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
