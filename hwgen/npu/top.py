"""The NPU: compute core behind an AXI4-Lite register file and AXI4-Stream data ports."""

from __future__ import annotations

from collections.abc import Sequence

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu import csr
from hwgen.npu.axi import AxiLiteSlave, axi_lite_slave, axi_stream
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import Core
from hwgen.npu.csr import DmaTarget, Reg
from hwgen.npu.descriptor import CONV_DESCRIPTOR, register_widths
from hwgen.npu.dma import StreamReader, StreamWriter


class Npu(wiring.Component):
    def __init__(self, config: NpuConfig, weight_init: Sequence[int] = ()) -> None:
        self.config = config
        self.weight_init = weight_init
        dw = config.data_width
        super().__init__(
            {
                "s_axil": Out(axi_lite_slave(csr.ADDR_WIDTH)),
                "s_axis": In(axi_stream(dw)),
                "m_axis": Out(axi_stream(dw)),
                "irq": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        m.submodules.core = core = Core(cfg, self.weight_init)
        m.submodules.axil = axil = AxiLiteSlave(csr.ADDR_WIDTH)
        widths = {
            DmaTarget.ACT_BANK0: core.vector_width,
            DmaTarget.ACT_BANK1: core.vector_width,
            DmaTarget.WEIGHTS: core.block_width,
            DmaTarget.PARAMS: core.params.size,
        }
        m.submodules.writer = writer = StreamWriter(cfg.data_width, widths)
        m.submodules.reader = reader = StreamReader(
            cfg.data_width, core.vector_width, cfg.out_depth
        )
        wiring.connect(m, wiring.flipped(self.s_axil), axil.bus)
        wiring.connect(m, wiring.flipped(self.s_axis), writer.stream)
        wiring.connect(m, reader.stream, wiring.flipped(self.m_axis))

        # Registers.
        field_widths = register_widths(cfg)
        fields = [
            Signal(
                f.shape if field_widths[n] == f.shape.width else field_widths[n], name=f"desc_{n}"
            )
            for n, f in CONV_DESCRIPTOR
        ]
        narrowed = {
            k for k, (n, f) in enumerate(CONV_DESCRIPTOR) if field_widths[n] < f.shape.width
        }
        irq_enable = Signal()
        done = Signal()
        cycles = Signal(32)
        dma_target = Signal(2)
        dma_addr = Signal(16)
        # At most out_depth words: a larger count sends the whole buffer, once.
        dma_count = Signal(range(cfg.out_depth + 1))
        m.d.sync += cycles.eq(cycles + 1)
        # START and READ act the cycle after the strobe, from flip-flops: the address decode
        # ends there instead of running on into the core's and the stream reader's enables
        # (the iCEBreaker's critical path, at 26 ns). The write's response goes out on that
        # cycle too, so a host cannot tell.
        start = Signal()
        read_start = Signal()
        m.d.sync += [start.eq(0), read_start.eq(0)]
        word = axil.write_addr
        value = axil.write_data
        writable = {Reg.CTRL, Reg.STATUS, Reg.DMA_TARGET, Reg.DMA_ADDR, Reg.DMA_COUNT, Reg.DMA_CTRL}
        descriptor_words = range(Reg.DESCRIPTOR // 4, Reg.DESCRIPTOR // 4 + len(fields))
        # A narrowed field (register_widths) keeps a word that does not fit as all ones, which
        # the core's checks refuse. Whether it fits is judged on the bus's word as it is
        # accepted, and lands beside it (write_data is that word, a cycle later): the
        # saturating write then starts from flip-flops.
        narrow_widths = sorted({len(fields[k]) for k in narrowed})
        too_wide = {width: Signal(name=f"too_wide_{width}") for width in narrow_widths}
        for width, flag in too_wide.items():
            m.d.sync += flag.eq(self.s_axil.wdata[width:].any())
        m.d.comb += axil.write_error.eq(1)
        for reg in writable:
            with m.If(word == reg // 4):
                m.d.comb += axil.write_error.eq(0)
        # The core reads the descriptor where it is, for the whole command: while it is busy
        # the descriptor is read-only (a write answers SLVERR and changes nothing).
        with m.If((word >= descriptor_words.start) & (word < descriptor_words.stop)):
            m.d.comb += axil.write_error.eq(core.busy)
        with m.If(axil.write):
            with m.Switch(word):
                with m.Case(Reg.CTRL // 4):
                    m.d.sync += start.eq(value[0])
                    m.d.sync += irq_enable.eq(value[1])
                with m.Case(Reg.STATUS // 4):
                    with m.If(value[1]):
                        m.d.sync += done.eq(0)
                with m.Case(Reg.DMA_TARGET // 4):
                    m.d.sync += dma_target.eq(value)
                with m.Case(Reg.DMA_ADDR // 4):
                    m.d.sync += dma_addr.eq(value)
                with m.Case(Reg.DMA_COUNT // 4):
                    m.d.sync += dma_count.eq(Mux(value > cfg.out_depth, cfg.out_depth, value))
                with m.Case(Reg.DMA_CTRL // 4):
                    m.d.sync += read_start.eq(value[0])
                for k, field in enumerate(fields):
                    with m.Case(descriptor_words.start + k):
                        with m.If(~core.busy):
                            kept = value[: len(field)]
                            if k in narrowed:
                                kept = kept | too_wide[len(field)].replicate(len(field))
                            m.d.sync += field.eq(kept)

        # The core's done covers a refused command too (with its error code).
        with m.If(core.done):
            m.d.sync += done.eq(1)
        with m.Elif(start & ~core.busy):
            m.d.sync += done.eq(0)
        m.d.comb += [
            *(core.cmd[n].eq(f) for (n, _), f in zip(CONV_DESCRIPTOR, fields, strict=True)),
            core.start.eq(start),
            self.irq.eq(irq_enable & done),
        ]

        # The data port. A transfer restarts the cycle after DMA_TARGET or DMA_ADDR is written,
        # from the registers: no path from the bus's address decode into the memories' write
        # ports. The write's response comes no earlier (AxiLiteSlave answers the cycle after
        # the strobe), so no beat can arrive in between.
        restart = Signal()
        m.d.sync += restart.eq(
            axil.write & ((word == Reg.DMA_TARGET // 4) | (word == Reg.DMA_ADDR // 4))
        )
        m.d.comb += [
            writer.target.eq(dma_target),
            writer.start_addr.eq(dma_addr),
            writer.restart.eq(restart),
            core.act_write.bank.eq(writer.write_target[0]),
            reader.start.eq(read_start),
            reader.addr.eq(dma_addr),
            reader.count.eq(dma_count),
            core.out_read_addr.eq(reader.read_addr),
            reader.read_data.eq(core.out_read_data),
            reader.read_taken.eq(core.out_read_taken),
        ]

        # Each beat goes to its lane of the target's word (every lane sees the beat).
        for port, selected in (
            (core.act_write, writer.write_target <= DmaTarget.ACT_BANK1),
            (core.weight_write, writer.write_target == DmaTarget.WEIGHTS),
            (core.param_write, writer.write_target == DmaTarget.PARAMS),
        ):
            lane_bits = len(port.data) // len(port.en)
            m.d.comb += [
                port.addr.eq(writer.write_addr),
                port.data.eq(writer.write_data[:lane_bits].replicate(len(port.en))),
            ]
            for k in range(len(port.en)):
                m.d.comb += port.en[k].eq(writer.write_en & selected & (writer.write_lane == k))

        # Reads.
        read_values = {
            Reg.ID: csr.MAGIC,
            Reg.HW_CONFIG: csr.HwConfig.of(cfg).word,
            Reg.CTRL: irq_enable << 1,
            Reg.STATUS: core.busy | (done << 1) | (core.error << csr.STATUS_ERROR_SHIFT),
            Reg.CYCLES: cycles,
            Reg.BUSY_CYCLES: core.busy_cycles,
            Reg.STALL_CYCLES: core.stall_cycles,
            Reg.MAC_CYCLES: core.mac_cycles,
            Reg.DMA_TARGET: dma_target,
            Reg.DMA_ADDR: dma_addr,
            Reg.DMA_COUNT: dma_count,
            Reg.DMA_CTRL: reader.busy,
        }
        m.d.comb += axil.read_error.eq(1)
        with m.Switch(axil.read_addr):
            for reg, source in read_values.items():
                with m.Case(reg // 4):
                    m.d.comb += [axil.read_data.eq(source), axil.read_error.eq(0)]
            # The descriptor is write-only (reads answer 0): its read multiplexer took about
            # 190 of the iCEBreaker's 5,280 logic cells, and the host only writes it.
            with m.Case(*descriptor_words):
                m.d.comb += axil.read_error.eq(0)
        return m
