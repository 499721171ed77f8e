"""A functional NPU behind the HAL: the register and data-port behaviour of the RTL over the
transaction-level model of sim_models.npu (results and cycle counts)."""

from __future__ import annotations

import numpy as np

from hwgen.npu import csr
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import param_layout
from hwgen.npu.csr import DmaTarget, Reg
from hwgen.npu.dma import beats
from hwgen.npu.errors import NpuError
from hwgen.npu.words import unpack
from hwgen.sim_models.npu import ConvCommand, NpuMemories, cycles, execute


class FunctionalNpu:
    def __init__(self, config: NpuConfig) -> None:
        self.config = config
        self.mem = NpuMemories.empty(config)
        self.descriptor = [0] * len(csr.DESCRIPTOR_FIELDS)
        self.regs = {Reg.DMA_TARGET: 0, Reg.DMA_ADDR: 0, Reg.DMA_COUNT: 0}
        self.irq_enable = False
        self.done = False
        self.error = NpuError.NONE
        self.counters = {"busy": 0, "stall": 0, "mac": 0}
        self.total_cycles = 0
        self._pending = bytearray()  # bytes of a word not yet complete
        self._write_addr = 0
        self._outgoing = bytearray()
        beat = config.data_width // 8
        m = config.array
        self.word_bytes = {
            DmaTarget.ACT_BANK0: beats(8 * m, config.data_width) * beat,
            DmaTarget.ACT_BANK1: beats(8 * m, config.data_width) * beat,
            DmaTarget.WEIGHTS: beats(8 * m * m, config.data_width) * beat,
            DmaTarget.PARAMS: beats(param_layout(config).size, config.data_width) * beat,
        }

    # -- registers -----------------------------------------------------------------------

    def read32(self, offset: int) -> int:
        if offset == Reg.ID:
            return csr.MAGIC
        if offset == Reg.HW_CONFIG:
            return csr.HwConfig.of(self.config).word
        if offset == Reg.STATUS:
            return (int(self.done) << 1) | (int(self.error) << csr.STATUS_ERROR_SHIFT)
        if offset == Reg.CTRL:
            return int(self.irq_enable) << 1
        counters = {
            Reg.CYCLES: self.total_cycles,
            Reg.BUSY_CYCLES: self.counters["busy"],
            Reg.STALL_CYCLES: self.counters["stall"],
            Reg.MAC_CYCLES: self.counters["mac"],
        }
        if offset in counters:
            return counters[Reg(offset)] & 0xFFFFFFFF
        if offset in self.regs:
            return self.regs[Reg(offset)]
        if offset == Reg.DMA_CTRL:
            return 0
        field = (offset - Reg.DESCRIPTOR) // 4
        if offset >= Reg.DESCRIPTOR and field < len(self.descriptor):
            return 0  # write-only, as in the RTL
        raise ValueError(f"read of unmapped NPU register 0x{offset:02x}")

    def write32(self, offset: int, value: int) -> None:
        field = (offset - Reg.DESCRIPTOR) // 4
        if offset >= Reg.DESCRIPTOR and field < len(self.descriptor):
            self.descriptor[field] = value
        elif offset == Reg.CTRL:
            self.irq_enable = bool(value & csr.CTRL_IRQ_ENABLE)
            if value & csr.CTRL_START:
                self._start()
        elif offset == Reg.STATUS:
            if value & csr.STATUS_DONE:
                self.done = False
        elif offset in (Reg.DMA_TARGET, Reg.DMA_ADDR):
            self.regs[Reg(offset)] = value
            self._pending.clear()
            self._write_addr = self.regs[Reg.DMA_ADDR]
        elif offset == Reg.DMA_COUNT:
            self.regs[Reg.DMA_COUNT] = min(value, self.config.out_depth)
        elif offset == Reg.DMA_CTRL:
            if value & csr.DMA_READ:
                self._send_outputs()
        else:
            raise ValueError(f"write to unmapped NPU register 0x{offset:02x}")

    # -- data port -----------------------------------------------------------------------

    def stream_write(self, data: bytes) -> None:
        target = DmaTarget(self.regs[Reg.DMA_TARGET])
        size = self.word_bytes[target]
        self._pending += data
        while len(self._pending) >= size:
            word = int.from_bytes(self._pending[:size], "little")
            del self._pending[:size]
            self._store(target, self._write_addr, word)
            self._write_addr += 1

    def stream_read(self, size: int) -> bytes:
        if size > len(self._outgoing):
            raise ValueError(f"read of {size} bytes from the NPU, {len(self._outgoing)} sent")
        chunk = bytes(self._outgoing[:size])
        del self._outgoing[:size]
        return chunk

    def _store(self, target: DmaTarget, addr: int, word: int) -> None:
        m = self.config.array
        if target in (DmaTarget.ACT_BANK0, DmaTarget.ACT_BANK1):
            raw = word.to_bytes(self.word_bytes[target], "little")[:m]
            self.mem.act[int(target), addr] = np.frombuffer(raw, np.int8)
        elif target is DmaTarget.WEIGHTS:
            raw = word.to_bytes(self.word_bytes[target], "little")[: m * m]
            self.mem.weights[addr] = np.frombuffer(raw, np.int8).reshape(m, m)
        else:
            fields = unpack(param_layout(self.config), word)
            self.mem.bias[addr] = fields["bias"]
            for name, value in fields["params"].items():
                self.mem.params[name][addr] = value

    def _send_outputs(self) -> None:
        addr, count = self.regs[Reg.DMA_ADDR], self.regs[Reg.DMA_COUNT]
        size = self.word_bytes[DmaTarget.ACT_BANK0]
        for word in self.mem.out[addr : addr + count]:
            self._outgoing += word.tobytes().ljust(size, b"\0")

    # -- commands ------------------------------------------------------------------------

    def _start(self) -> None:
        values = dict(zip(csr.DESCRIPTOR_FIELDS, self.descriptor, strict=True))
        values["pad_value"] = (values["pad_value"] & 0xFF) - (
            256 if values["pad_value"] & 0x80 else 0
        )
        values["act_bank"] &= 1
        cmd = ConvCommand(**values)
        self.error = self._check(cmd)
        self.done = True
        if self.error is not NpuError.NONE:
            return
        execute(self.mem, cmd)
        busy = cycles(cmd, self.config)
        self.counters = {"busy": busy, "stall": busy - cmd.steps, "mac": cmd.steps}
        self.total_cycles += busy

    def _check(self, cmd: ConvCommand) -> NpuError:
        """The RTL's checks at start (hwgen.npu.core.Core._check), in the same order."""
        c = self.config
        sizes = (
            cmd.in_h,
            cmd.in_w,
            cmd.cin_blocks,
            cmd.out_h,
            cmd.out_w,
            cmd.cout_blocks,
            cmd.kernel_h,
            cmd.kernel_w,
            cmd.stride_h,
            cmd.stride_w,
            cmd.dilation_h,
            cmd.dilation_w,
        )
        if 0 in sizes:
            return NpuError.ZERO_DIMENSION
        if cmd.act_base + cmd.in_h * cmd.in_w * cmd.cin_blocks > c.act_depth:
            return NpuError.ACT_RANGE
        if cmd.weight_base + cmd.cout_blocks * cmd.reduction_blocks > c.weight_depth:
            return NpuError.WEIGHT_RANGE
        if cmd.param_base + cmd.cout_blocks * c.array > c.param_depth:
            return NpuError.PARAM_RANGE
        if cmd.out_base + cmd.rows > c.out_depth:
            return NpuError.OUT_RANGE
        return NpuError.NONE
