"""The DMA's burst walker against the access pattern it walks: every chunk's beats in bursts, in
order, none across a 4 KiB page or over 256 beats, one burst a cycle while they are taken."""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator, SimulatorContext

from hwgen.npu.commands import Pattern
from hwgen.npu.dma import MAX_BURST, PAGE, BurstWalker

BEAT = 4  # a 32-bit bus


def expected_bursts(base: int, pattern: Pattern) -> list[tuple[int, int]]:
    """(address, beats) of each burst, cutting each chunk at pages and at 256 beats."""
    bursts = []
    for offset in pattern.offsets():
        addr, left = base + offset, pattern.chunk_beats
        while left:
            size = min(left, MAX_BURST, (PAGE - addr % PAGE) // BEAT)
            bursts.append((addr, size))
            addr, left = addr + size * BEAT, left - size
    return bursts


def random_pattern(rng: random.Random) -> tuple[int, Pattern]:
    base = rng.randrange(0, 3 * PAGE, BEAT)
    chunk = rng.choice([1, 2, 3, 64, 255, 256, 257, 700, 1100])
    n0, n1 = rng.randint(1, 4), rng.randint(1, 3)
    stride0 = rng.choice([chunk * BEAT, chunk * BEAT + 2 * BEAT, rng.randrange(0, 2 * PAGE, BEAT)])
    stride1 = rng.choice([n0 * stride0, rng.randrange(0, 4 * PAGE, BEAT)])
    return base, Pattern(chunk, n0=n0, n1=n1, stride0=stride0, stride1=stride1)


@pytest.mark.parametrize("seed", range(3))
def test_bursts_cover_the_pattern(seed: int) -> None:
    rng = random.Random(seed)
    cases = [random_pattern(rng) for _ in range(12)]
    dut = BurstWalker(32, 8 * BEAT)
    seen: list[list[tuple[int, int]]] = []

    async def bench(ctx: SimulatorContext) -> None:
        for base, pattern in cases:
            ctx.set(dut.base, base)
            for name in ("chunk_beats", "n0", "n1", "stride0", "stride1"):
                ctx.set(getattr(dut, name), getattr(pattern, name))
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            bursts: list[tuple[int, int]] = []
            stalls = 0
            ready = True
            while not ctx.get(dut.idle):
                # Taken every cycle but for one stall in seven: bursts wait, none is lost.
                ready = rng.random() > 1 / 7
                ctx.set(dut.burst.ready, ready)
                if ctx.get(dut.burst.valid) and ready:
                    bursts.append((ctx.get(dut.burst.addr), ctx.get(dut.burst.beats)))
                elif not ctx.get(dut.burst.valid) and bursts:
                    stalls += 1
                await ctx.tick()
            assert stalls == 0, "a burst a cycle while they are taken"
            seen.append(bursts)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    for (base, pattern), bursts in zip(cases, seen, strict=True):
        assert bursts == expected_bursts(base, pattern), pattern
        assert all(addr // PAGE == (addr + beats * BEAT - 1) // PAGE for addr, beats in bursts)
