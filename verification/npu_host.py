"""The host's side of the NPU over its AMBA ports, with cocotbext-axi: the same register
sequence the C driver will use."""

from __future__ import annotations

import numpy as np
from cocotb.handle import HierarchyObject
from cocotbext.axi import AxiStreamFrame

from hwgen.npu import csr
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import param_layout
from hwgen.npu.csr import DmaTarget, Reg
from hwgen.npu.dma import beats
from hwgen.sim.axi_port import AxiNpuBus
from hwgen.sim_models.npu import ConvCommand, NpuMemories
from verification.npu_data import param_word, vector_word, word_bytes


class NpuHost:
    def __init__(self, dut: HierarchyObject, config: NpuConfig, stall: float, seed: int) -> None:
        self.config = config
        bus = AxiNpuBus(dut, stall, seed)
        self.regs, self.source, self.sink = bus.regs, bus.source, bus.sink
        self.beat_bytes = config.data_width // 8

    def _word_bytes(self, word: int, bits: int) -> bytes:
        return word.to_bytes(beats(bits, self.config.data_width) * self.beat_bytes, "little")

    async def write_words(self, target: DmaTarget, addr: int, words: list[int], bits: int) -> None:
        await self.regs.write_dword(Reg.DMA_TARGET, target)
        await self.regs.write_dword(Reg.DMA_ADDR, addr)
        data = b"".join(self._word_bytes(w, bits) for w in words)
        await self.source.send(AxiStreamFrame(data))
        await self.source.wait()

    async def load(self, mem: NpuMemories) -> None:
        m = self.config.array
        for bank in range(2):
            words = [vector_word(v) for v in mem.act[bank]]
            await self.write_words(DmaTarget(bank), 0, words, 8 * m)
        blocks = [vector_word(b.reshape(-1)) for b in mem.weights]
        await self.write_words(DmaTarget.WEIGHTS, 0, blocks, 8 * m * m)
        params = [param_word(self.config, mem, c) for c in range(mem.bias.size)]
        await self.write_words(DmaTarget.PARAMS, 0, params, param_layout(self.config).size)

    async def run(self, cmd: ConvCommand) -> dict[str, int]:
        for name, value in cmd.as_dict().items():
            await self.regs.write_dword(csr.descriptor_offset(name), value & 0xFFFFFFFF)
        await self.regs.write_dword(Reg.CTRL, csr.CTRL_START)
        while True:
            status = await self.regs.read_dword(Reg.STATUS)
            if status & csr.STATUS_DONE:
                break
        await self.regs.write_dword(Reg.STATUS, csr.STATUS_DONE)
        return {
            "error": (status >> csr.STATUS_ERROR_SHIFT) & 0xF,
            "busy_cycles": await self.regs.read_dword(Reg.BUSY_CYCLES),
            "mac_cycles": await self.regs.read_dword(Reg.MAC_CYCLES),
        }

    async def read_out(self, addr: int, count: int) -> np.ndarray:
        m = self.config.array
        await self.regs.write_dword(Reg.DMA_ADDR, addr)
        await self.regs.write_dword(Reg.DMA_COUNT, count)
        await self.regs.write_dword(Reg.DMA_CTRL, csr.DMA_READ)
        frame = await self.sink.recv()
        data = bytes(frame.tdata)
        step = beats(8 * m, self.config.data_width) * self.beat_bytes
        assert len(data) == count * step, f"{len(data)} bytes for {count} words"
        return np.stack(
            [
                word_bytes(int.from_bytes(data[i * step : i * step + m], "little"), m)
                for i in range(count)
            ]
        )
