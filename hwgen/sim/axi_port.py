"""The NPU's AMBA ports driven from cocotb with cocotbext-axi, as an NpuPort for the host C:
every HAL call becomes bus transactions on the RTL."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from cocotb.handle import HierarchyObject
from cocotb.task import resume
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)


def random_pauses(seed: int, probability: float) -> Iterator[bool]:
    rng = random.Random(seed)
    return itertools.cycle([rng.random() < probability for _ in range(997)])


class AxiNpuBus:
    """cocotbext-axi master, stream source and sink on the npu_top wrapper's ports."""

    def __init__(self, dut: HierarchyObject, stall: float = 0.0, seed: int = 0) -> None:
        clock, reset = dut.aclk, dut.aresetn
        self.regs = AxiLiteMaster(
            AxiLiteBus.from_prefix(dut, "s_axil"), clock, reset, reset_active_level=False
        )
        self.source = AxiStreamSource(
            AxiStreamBus.from_prefix(dut, "s_axis"), clock, reset, reset_active_level=False
        )
        self.sink = AxiStreamSink(
            AxiStreamBus.from_prefix(dut, "m_axis"), clock, reset, reset_active_level=False
        )
        if stall:
            channels = [
                self.regs.write_if.aw_channel,
                self.regs.write_if.w_channel,
                self.regs.write_if.b_channel,
                self.regs.read_if.ar_channel,
                self.regs.read_if.r_channel,
                self.source,
                self.sink,
            ]
            for k, channel in enumerate(channels):
                channel.set_pause_generator(random_pauses(seed + k, stall))


class AxiNpuPort:
    """Blocking HAL calls (from a cocotb bridge thread) as transactions on the bus."""

    def __init__(self, bus: AxiNpuBus) -> None:
        self.bus = bus
        self._received = bytearray()

    def read32(self, offset: int) -> int:
        return int(self._read(offset))

    def write32(self, offset: int, value: int) -> None:
        self._write(offset, value)

    def stream_write(self, data: bytes) -> None:
        self._send(data)

    def stream_read(self, size: int) -> bytes:
        while len(self._received) < size:
            self._received += self._receive()
        chunk = bytes(self._received[:size])
        del self._received[:size]
        return chunk

    @resume
    async def _read(self, offset: int) -> int:
        return int(await self.bus.regs.read_dword(offset))

    @resume
    async def _write(self, offset: int, value: int) -> None:
        await self.bus.regs.write_dword(offset, value)

    @resume
    async def _send(self, data: bytes) -> None:
        await self.bus.source.send(AxiStreamFrame(data))
        await self.bus.source.wait()

    @resume
    async def _receive(self) -> bytes:
        frame = await self.bus.sink.recv()
        return bytes(frame.tdata)
