"""The whole NPU under Amaranth's simulator, with its system memory in block RAM: programs run
from a byte image, for fast checks of the sequencer and the DMA against the models (the
Verilator regression runs the same with larger programs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth import Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from hwgen.npu import csr
from hwgen.npu.axi_memory import AxiMemory, BlockRam
from hwgen.npu.config import NpuConfig
from hwgen.npu.csr import Reg
from hwgen.npu.sequencer import Sequencer
from hwgen.npu.top import ADDR_WIDTH


class Rig(wiring.Component):
    def __init__(self, config: NpuConfig, image: np.ndarray) -> None:
        self.config = config
        bb = config.beat_bytes
        words = -(-image.size // bb)
        padded = np.zeros(words * bb, np.uint8)
        padded[: image.size] = image
        self.init = [
            int.from_bytes(padded[k * bb : (k + 1) * bb].tobytes(), "little") for k in range(words)
        ]
        self.words = words
        self.seq = Sequencer(config, ADDR_WIDTH)
        self.memory = AxiMemory(ADDR_WIDTH, config.data_width)
        self.ram = BlockRam(ADDR_WIDTH - (bb.bit_length() - 1), config.data_width, words, self.init)
        super().__init__({})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.seq = seq = self.seq
        m.submodules.memory = memory = self.memory
        m.submodules.ram = ram = self.ram
        wiring.connect(m, memory.port, ram.port)
        m.d.comb += memory.size.eq(self.words * self.config.beat_bytes)
        bus = memory.s_axi  # the slave's side: what the master drives is In here
        for path, member, _ in bus.signature.flatten(bus):
            name = path[0]
            if name in ("arid", "awid", "rid", "bid", "rlast"):  # one ID; beats, not bursts
                continue
            if member.flow == wiring.In:
                m.d.comb += getattr(bus, name).eq(getattr(seq, name))
            else:
                m.d.comb += getattr(seq, name).eq(getattr(bus, name))
        return m


@dataclass
class Run:
    image: np.ndarray
    counters: dict[str, int]
    error: int
    command: int
    cycles: int  # from the start pulse to done


def run(
    config: NpuConfig, image: np.ndarray, address: int, count: int, limit: int = 200_000
) -> Run:
    rig = Rig(config, image)
    sim = Simulator(rig)
    sim.add_clock(1e-8)
    found: dict[str, object] = {}

    async def testbench(ctx: object) -> None:
        seq = rig.seq
        await ctx.tick()  # type: ignore[attr-defined]
        ctx.set(seq.prog_addr, address)  # type: ignore[attr-defined]
        ctx.set(seq.prog_count, count)  # type: ignore[attr-defined]
        ctx.set(seq.start, 1)  # type: ignore[attr-defined]
        await ctx.tick()  # type: ignore[attr-defined]
        ctx.set(seq.start, 0)  # type: ignore[attr-defined]
        for cycle in range(1, limit):
            if ctx.get(seq.done):  # type: ignore[attr-defined]
                found["cycles"] = cycle
                break
            await ctx.tick()  # type: ignore[attr-defined]
        else:
            raise TimeoutError(f"no done in {limit} cycles")
        await ctx.tick()  # type: ignore[attr-defined]
        counters = ctx.get(seq.counters)  # type: ignore[attr-defined]
        found["counters"] = {name: int(getattr(counters, name)) for name, _ in seq.counters.shape()}
        found["error"] = ctx.get(seq.error)  # type: ignore[attr-defined]
        found["command"] = ctx.get(seq.error_command)  # type: ignore[attr-defined]
        ram = rig.ram
        words = [ctx.get(ram.ram.data[k]) for k in range(rig.words)]  # type: ignore[attr-defined]
        found["image"] = np.frombuffer(
            b"".join(int(w).to_bytes(config.beat_bytes, "little") for w in words), np.uint8
        )[: image.size].copy()

    sim.add_testbench(testbench)
    sim.run()
    return Run(found["image"], found["counters"], found["error"], found["command"], found["cycles"])  # type: ignore[arg-type]


del csr, Reg
