"""The NPU: the sequencer (hwgen.npu.sequencer) behind an AXI4-Lite register file, with an AXI4
master port to system memory and an interrupt.

The host writes a program's address and length and sets START; the NPU fetches the program,
runs it (its DMA moving weights, parameters and activations between system memory and its
local buffers) and raises DONE (and the interrupt, if enabled) with the cycles it took.
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from hwgen.npu import csr
from hwgen.npu.axi import AxiLiteSlave, axi4, axi_lite_slave
from hwgen.npu.config import NpuConfig
from hwgen.npu.csr import Reg
from hwgen.npu.sequencer import Sequencer

ADDR_WIDTH = 32  # system memory byte addresses


def npu_signature(config: NpuConfig) -> wiring.Signature:
    return wiring.Signature(
        {
            "s_axil": Out(axi_lite_slave(csr.ADDR_WIDTH)),
            "m_axi": Out(axi4(ADDR_WIDTH, config.data_width)),
            "irq": Out(1),
        }
    )


class Npu(wiring.Component):
    def __init__(self, config: NpuConfig) -> None:
        self.config = config
        super().__init__(npu_signature(config))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        m.submodules.seq = seq = Sequencer(cfg, ADDR_WIDTH)
        m.submodules.axil = axil = AxiLiteSlave(csr.ADDR_WIDTH)
        wiring.connect(m, wiring.flipped(self.s_axil), axil.bus)
        bus = self.m_axi
        for path, member, _ in bus.signature.flatten(bus):
            name = path[0]
            if name in ("arid", "awid"):
                m.d.comb += getattr(bus, name).eq(0)
            elif name in ("rid", "bid", "rlast"):  # one ID; the loader counts beats, not bursts
                pass
            elif member.flow == Out:
                m.d.comb += getattr(bus, name).eq(getattr(seq, name))
            else:
                m.d.comb += getattr(seq, name).eq(getattr(bus, name))

        irq_enable = Signal()
        done = Signal()
        cycles = Signal(32)
        prog_addr = Signal(ADDR_WIDTH)
        prog_count = Signal(16)
        m.d.sync += cycles.eq(cycles + 1)
        # START acts the cycle after the write's strobe, from a flip-flop: the address decode
        # ends there (the write's response goes out on that cycle too, so a host cannot tell).
        start = Signal()
        m.d.sync += start.eq(0)
        word, value = axil.write_addr, axil.write_data
        writable = {Reg.CTRL, Reg.STATUS, Reg.PROG_ADDR, Reg.PROG_COUNT}
        m.d.comb += axil.write_error.eq(1)
        for reg in writable:
            with m.If(word == reg // 4):
                m.d.comb += axil.write_error.eq(0)
        with m.If(axil.write):
            with m.Switch(word):
                with m.Case(Reg.CTRL // 4):
                    m.d.sync += [start.eq(value[0]), irq_enable.eq(value[1])]
                with m.Case(Reg.STATUS // 4):
                    with m.If(value[1]):
                        m.d.sync += done.eq(0)
                with m.Case(Reg.PROG_ADDR // 4):
                    with m.If(~seq.busy):  # the program being run stays where it is
                        m.d.sync += prog_addr.eq(value)
                with m.Case(Reg.PROG_COUNT // 4):
                    with m.If(~seq.busy):
                        m.d.sync += prog_count.eq(value)
        with m.If(seq.done):
            m.d.sync += done.eq(1)
        with m.Elif(start & ~seq.busy):
            m.d.sync += done.eq(0)
        m.d.comb += [
            seq.start.eq(start & ~seq.busy),
            seq.prog_addr.eq(prog_addr),
            seq.prog_count.eq(prog_count),
            self.irq.eq(irq_enable & done),
        ]

        counters = seq.counters
        read_values = {
            Reg.ID: csr.MAGIC,
            Reg.HW_CONFIG: csr.HwConfig.of(cfg).word,
            Reg.CTRL: irq_enable << 1,
            Reg.STATUS: seq.busy | (done << 1) | (seq.error << csr.STATUS_ERROR_SHIFT),
            Reg.CYCLES: cycles,
            Reg.BUSY_CYCLES: counters.busy,
            Reg.STALL_CYCLES: counters.stall,
            Reg.MAC_CYCLES: counters.mac,
            Reg.PROG_ADDR: prog_addr,
            Reg.PROG_COUNT: prog_count,
            Reg.LOAD_CYCLES: counters.load,
            Reg.CORE_CYCLES: counters.core,
            Reg.STORE_CYCLES: counters.store,
            Reg.ERROR_COMMAND: seq.error_command,
            Reg.CONFIG_ID: csr.config_id(cfg),
        }
        m.d.comb += axil.read_error.eq(1)
        with m.Switch(axil.read_addr):
            for reg, source in read_values.items():
                with m.Case(reg // 4):
                    m.d.comb += [axil.read_data.eq(source), axil.read_error.eq(0)]
        return m
