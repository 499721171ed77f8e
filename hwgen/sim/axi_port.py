"""The NPU's registers and interrupt driven from cocotb, as the NpuPort of the host C: register
accesses become AXI4-Lite transactions (cocotbext-axi), a wait for the interrupt waits in
simulated time, and system memory is the C's own array, attached to the simulated memory in
place (hwgen.sim.sysmem): bulk data never passes through Python."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from cocotb.handle import HierarchyObject
from cocotb.task import resume
from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from hwgen.sim import sysmem


def random_pauses(seed: int, probability: float) -> Iterator[bool]:
    rng = random.Random(seed)
    return itertools.cycle([rng.random() < probability for _ in range(997)])


def register_master(dut: HierarchyObject, stall: float = 0.0, seed: int = 0) -> AxiLiteMaster:
    """cocotbext-axi's AXI4-Lite master on the s_axil ports, with random idle cycles and
    backpressure on every channel at the rate `stall`."""
    regs = AxiLiteMaster(
        AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, dut.aresetn, reset_active_level=False
    )
    if stall:
        channels = [
            regs.write_if.aw_channel,
            regs.write_if.w_channel,
            regs.write_if.b_channel,
            regs.read_if.ar_channel,
            regs.read_if.r_channel,
        ]
        for k, channel in enumerate(channels):
            channel.set_pause_generator(random_pauses(seed + k, stall))
    return regs


class AxiNpuPort:
    """Blocking HAL calls (from a cocotb bridge thread) as simulated events."""

    def __init__(self, dut: Any, regs: AxiLiteMaster) -> None:  # its signals are untyped
        self.dut = dut
        self.regs = regs

    def read32(self, offset: int) -> int:
        return int(self._read(offset))

    def write32(self, offset: int, value: int) -> None:
        self._write(offset, value)

    def wait(self) -> None:
        self._wait()

    def attach(self, address: int, size: int) -> None:
        self._attach(address, size)

    def flush(self, offset: int, size: int) -> None:
        """The simulated memory is the C's own: nothing to copy."""

    def invalidate(self, offset: int, size: int) -> None:
        """The simulated memory is the C's own: nothing to copy."""

    @resume
    async def _read(self, offset: int) -> int:
        return int(await self.regs.read_dword(offset))

    @resume
    async def _write(self, offset: int, value: int) -> None:
        await self.regs.write_dword(offset, value)

    @resume
    async def _wait(self) -> None:
        if not int(self.dut.irq.value):
            await RisingEdge(self.dut.irq)

    @resume
    async def _attach(self, address: int, size: int) -> None:
        sysmem.attach(address, size)
        self.dut.sysmem_bytes.value = size
