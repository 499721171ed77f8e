"""Drives the compute core's host ports from cocotb: load memories, run a command, read
results. Used by the core testbench and the benchmarks."""

from __future__ import annotations

import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from hwgen.npu.config import NpuConfig
from hwgen.npu.core import OUT_READ_LATENCY
from hwgen.npu.descriptor import CONV_DESCRIPTOR
from hwgen.sim_models.npu import ConvCommand, NpuMemories
from verification.npu_data import param_word, vector_word, word_bytes
from verification.packing import pack


class CoreDriver:
    def __init__(self, dut: HierarchyObject, config: NpuConfig) -> None:
        self.dut = dut
        self.config = config

    async def reset(self) -> None:
        Clock(self.dut.clk, 10, unit="ns").start()
        self.dut.rst.value = 1
        self.dut.start.value = 0
        for port in ("act_write", "weight_write", "param_write"):
            getattr(self.dut, f"{port}__en").value = 0
        await ClockCycles(self.dut.clk, 2)
        self.dut.rst.value = 0

    async def _write(self, port: str, words: list[int], depth: int) -> None:
        """Words of a memory in order: word k to bank k // depth, address k % depth."""
        dut = self.dut
        en, bank, addr, data = (
            getattr(dut, f"{port}__{n}") for n in ("en", "bank", "addr", "data")
        )
        for k, word in enumerate(words):
            en.value = (1 << len(en)) - 1  # every lane of the word at once
            bank.value = k // depth
            addr.value = k % depth
            data.value = word
            await RisingEdge(dut.clk)
        en.value = 0

    async def load(self, mem: NpuMemories) -> None:
        """Write the memories' contents, both banks of each."""
        config = self.config
        acts = [vector_word(mem.act[bank, a]) for bank in range(2) for a in range(mem.act.shape[1])]
        await self._write("act_write", acts, config.act_depth)
        blocks = [vector_word(block.reshape(-1)) for block in mem.weights]
        await self._write("weight_write", blocks, config.weight_depth)
        params = [param_word(config, mem, a) for a in range(mem.bias.size)]
        await self._write("param_write", params, config.param_depth)

    async def run(self, cmd: ConvCommand) -> dict[str, int]:
        """Start a command and wait for it; the error code and the performance counters."""
        dut = self.dut
        dut.cmd.value = pack(CONV_DESCRIPTOR, cmd.as_dict())
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        await ReadOnly()
        if int(dut.busy.value):
            await FallingEdge(dut.busy)
        await RisingEdge(dut.clk)
        return {
            "error": int(dut.error.value),
            "busy_cycles": int(dut.busy_cycles.value),
            "stall_cycles": int(dut.stall_cycles.value),
            "mac_cycles": int(dut.mac_cycles.value),
        }

    async def read_out(self, addresses: list[int]) -> np.ndarray:
        dut = self.dut
        lanes = self.config.array
        got = np.zeros((len(addresses), lanes), np.uint8)
        await RisingEdge(dut.clk)
        dut.out_read__en.value = 1
        depth = self.config.out_depth
        for i, address in enumerate(addresses):
            dut.out_read__bank.value = address // depth
            dut.out_read__addr.value = address % depth
            for _ in range(OUT_READ_LATENCY):  # the read, then its word registered
                await RisingEdge(dut.clk)
            await ReadOnly()
            got[i] = word_bytes(int(dut.out_read__data.value), lanes)
            await RisingEdge(dut.clk)
        dut.out_read__en.value = 0
        return got
