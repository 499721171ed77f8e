"""AMBA interfaces of the NPU: an AXI4-Lite slave for its registers and AXI4-Stream ports for
its data. Member names are the AMBA signal names, so a wrapper only adds a prefix."""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

OKAY = 0b00
SLVERR = 0b10


def axi_lite_slave(addr_width: int, data_width: int = 32) -> wiring.Signature:
    """Written from the slave's side (what the master drives is In): a slave takes Out(...)."""
    return wiring.Signature(
        {
            "awaddr": In(addr_width),
            "awprot": In(3),
            "awvalid": In(1),
            "awready": Out(1),
            "wdata": In(data_width),
            "wstrb": In(data_width // 8),
            "wvalid": In(1),
            "wready": Out(1),
            "bresp": Out(2),
            "bvalid": Out(1),
            "bready": In(1),
            "araddr": In(addr_width),
            "arprot": In(3),
            "arvalid": In(1),
            "arready": Out(1),
            "rdata": Out(data_width),
            "rresp": Out(2),
            "rvalid": Out(1),
            "rready": In(1),
        }
    )


def axi_stream(data_width: int) -> wiring.Signature:
    """A stream source's view (flip it for a sink)."""
    return wiring.Signature(
        {"tdata": Out(data_width), "tvalid": Out(1), "tready": In(1), "tlast": Out(1)}
    )


class AxiLiteSlave(wiring.Component):
    """One write and one read at a time, each answered the cycle after it is accepted.

    A write is accepted when its address and data are both valid; the register side sees a
    one-cycle `write` strobe. A read samples `read_data` for `read_addr` combinationally. Word
    addresses are byte addresses >> 2. `write_error` / `read_error` (combinational, for the
    address presented) answer SLVERR instead of OKAY.
    """

    def __init__(self, addr_width: int) -> None:
        self.addr_width = addr_width
        super().__init__(
            {
                "bus": Out(axi_lite_slave(addr_width)),
                "write": Out(1),
                "write_addr": Out(addr_width - 2),
                "write_data": Out(32),
                "write_error": In(1),
                "read_addr": Out(addr_width - 2),
                "read_data": In(32),
                "read_error": In(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        bus = self.bus
        accept_write = Signal()
        m.d.comb += [
            accept_write.eq(bus.awvalid & bus.wvalid & ~bus.bvalid),
            bus.awready.eq(accept_write),
            bus.wready.eq(accept_write),
            self.write_addr.eq(bus.awaddr[2:]),
            self.write_data.eq(bus.wdata),
            self.write.eq(accept_write),
        ]
        with m.If(accept_write):
            m.d.sync += [bus.bvalid.eq(1), bus.bresp.eq(Mux(self.write_error, SLVERR, OKAY))]
        with m.Elif(bus.bvalid & bus.bready):
            m.d.sync += bus.bvalid.eq(0)

        accept_read = Signal()
        m.d.comb += [
            accept_read.eq(bus.arvalid & ~bus.rvalid),
            bus.arready.eq(accept_read),
            self.read_addr.eq(bus.araddr[2:]),
        ]
        with m.If(accept_read):
            m.d.sync += [
                bus.rvalid.eq(1),
                bus.rdata.eq(self.read_data),
                bus.rresp.eq(Mux(self.read_error, SLVERR, OKAY)),
            ]
        with m.Elif(bus.rvalid & bus.rready):
            m.d.sync += bus.rvalid.eq(0)
        return m
