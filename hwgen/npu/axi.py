"""AMBA interfaces of the NPU: an AXI4-Lite slave for its registers and AXI4-Stream ports for
its data. Member names are the AMBA signal names, so a wrapper only adds a prefix."""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value
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


def axi4(addr_width: int, data_width: int) -> wiring.Signature:
    """AXI4 from the master's side (what it drives is Out): INCR bursts, in order, with one
    ID (the ports are there, for interconnects and verification IP that expect them; the NPU
    sends ID 0, a slave answers with the ID of the burst). A slave takes In(...)."""
    return wiring.Signature(
        {
            "arid": Out(ID_WIDTH),
            "araddr": Out(addr_width),
            "arlen": Out(8),
            "arsize": Out(3),
            "arburst": Out(2),
            "arvalid": Out(1),
            "arready": In(1),
            "rid": In(ID_WIDTH),
            "rdata": In(data_width),
            "rresp": In(2),
            "rlast": In(1),
            "rvalid": In(1),
            "rready": Out(1),
            "awid": Out(ID_WIDTH),
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
            "bid": In(ID_WIDTH),
            "bresp": In(2),
            "bvalid": In(1),
            "bready": Out(1),
        }
    )


ID_WIDTH = 1
INCR = 0b01


def axi_stream(data_width: int) -> wiring.Signature:
    """A stream source's view (flip it for a sink)."""
    return wiring.Signature(
        {"tdata": Out(data_width), "tvalid": Out(1), "tready": In(1), "tlast": Out(1)}
    )


class AxiLiteSlave(wiring.Component):
    """One write and one read at a time.

    A write is accepted when its address and data are both valid. The register side sees it the
    cycle after, from registers: a one-cycle `write` strobe with `write_addr` and `write_data`
    (the bus's `wdata` of the cycle before), so nothing the master drives reaches a register's
    input through the address decode. Its response follows the strobe by a cycle. A read is
    answered the cycle after it is accepted, with `read_data` for `read_addr` sampled
    combinationally. Word addresses are byte addresses >> 2. `write_error` / `read_error`
    (combinational, for the address presented) answer SLVERR instead of OKAY.
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
            accept_write.eq(bus.awvalid & bus.wvalid & ~bus.bvalid & ~self.write),
            bus.awready.eq(accept_write),
            bus.wready.eq(accept_write),
        ]
        m.d.sync += self.write.eq(accept_write)
        with m.If(accept_write):
            m.d.sync += [self.write_addr.eq(bus.awaddr[2:]), self.write_data.eq(bus.wdata)]
        with m.If(self.write):
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


def _register_channel(
    m: Module,
    valid: tuple[Value, Value],
    ready: tuple[Value, Value],
    payload: list[tuple[Value, Value]],
) -> None:
    """One channel through a register: (source, sink) pairs of its valid, ready and payload.

    Nothing passes combinationally in either direction (the sink's ready only clears the
    register), at the cost of one transfer every other cycle."""
    full = Signal()
    (src_valid, sink_valid), (src_ready, sink_ready) = valid, ready
    m.d.comb += [src_ready.eq(~full), sink_valid.eq(full)]
    with m.If(src_valid & ~full):
        m.d.sync += full.eq(1)
        m.d.sync += [sink.eq(source) for source, sink in payload]
    with m.Elif(sink_ready):
        m.d.sync += full.eq(0)


class AxiLiteRegisterSlice(wiring.Component):
    """Every AXI4-Lite channel through a register: two components joined by it share no
    combinational path (their handshakes would otherwise chain, between a bridge's FSM and
    the NPU's memories, into one long path)."""

    def __init__(self, addr_width: int) -> None:
        super().__init__(
            {"s_axil": Out(axi_lite_slave(addr_width)), "m_axil": In(axi_lite_slave(addr_width))}
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        s, d = self.s_axil, self.m_axil
        for prefix, fields in (
            ("aw", ("addr", "prot")),
            ("w", ("data", "strb")),
            ("ar", ("addr", "prot")),
        ):
            _register_channel(
                m,
                (getattr(s, f"{prefix}valid"), getattr(d, f"{prefix}valid")),
                (getattr(s, f"{prefix}ready"), getattr(d, f"{prefix}ready")),
                [(getattr(s, prefix + f), getattr(d, prefix + f)) for f in fields],
            )
        _register_channel(m, (d.bvalid, s.bvalid), (d.bready, s.bready), [(d.bresp, s.bresp)])
        _register_channel(
            m, (d.rvalid, s.rvalid), (d.rready, s.rready), [(d.rdata, s.rdata), (d.rresp, s.rresp)]
        )
        return m


class AxiStreamRegisterSlice(wiring.Component):
    def __init__(self, data_width: int) -> None:
        super().__init__(
            {"s_axis": In(axi_stream(data_width)), "m_axis": Out(axi_stream(data_width))}
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        s, d = self.s_axis, self.m_axis
        _register_channel(
            m, (s.tvalid, d.tvalid), (s.tready, d.tready), [(s.tdata, d.tdata), (s.tlast, d.tlast)]
        )
        return m
