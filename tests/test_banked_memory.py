"""BankedMemory against a plain array: writes by granule, reads READ_LATENCY enabled cycles
later, across banks and through stalls."""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator, SimulatorContext

from hwgen.npu.banked_memory import READ_LATENCY, BankedMemory


@pytest.mark.parametrize(
    ("width", "depth", "granularity", "bank_words"),
    [(32, 48, 8, 16), (64, 40, 32, 16), (16, 8, 16, 16), (24, 33, 8, 8)],
)
def test_reads_give_what_was_written(
    width: int, depth: int, granularity: int, bank_words: int
) -> None:
    dut = BankedMemory(width, depth, granularity, bank_words)
    assert dut.banks == -(-depth // min(bank_words, depth))
    rng = random.Random(width * depth + bank_words)
    granules = width // granularity
    mask = (1 << granularity) - 1
    reference = [0] * depth
    mismatches: list[str] = []

    async def bench(ctx: SimulatorContext) -> None:
        # Fill with random words a granule at a time; a write lands the cycle after the port.
        for addr in range(depth):
            for g in range(granules):
                value = rng.getrandbits(width)
                ctx.set(dut.wr_en, 1 << g)
                ctx.set(dut.wr_addr, addr)
                ctx.set(dut.wr_data, value)
                await ctx.tick()
                field = (value >> (g * granularity)) & mask
                reference[addr] &= ~(mask << (g * granularity))
                reference[addr] |= field << (g * granularity)
        ctx.set(dut.wr_en, 0)
        await ctx.tick()
        # Reads with the enable low at random: the word follows its address by READ_LATENCY
        # enabled cycles, and holds while the enable is low.
        in_flight: list[int] = []
        for cycle in range(6 * depth):
            en = rng.random() < 0.7
            addr = rng.randrange(depth)
            ctx.set(dut.rd_en, en)
            ctx.set(dut.rd_addr, addr)
            if len(in_flight) == READ_LATENCY:
                got, want = ctx.get(dut.rd_data), reference[in_flight[0]]
                if got != want:
                    mismatches.append(f"cycle {cycle}: word {in_flight[0]} {got:#x} != {want:#x}")
            await ctx.tick()
            if en:
                in_flight = [*in_flight, addr][-READ_LATENCY:]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert not mismatches, mismatches[:5]
