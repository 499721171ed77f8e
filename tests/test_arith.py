"""The NPU's combinational building blocks against Python integers."""

from __future__ import annotations

import random

import pytest
from amaranth import Module, Signal, Value
from amaranth.sim import Simulator, SimulatorContext

from hwgen.npu.arith import leading_zeros


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 13, 32])
def test_leading_zeros_counts_the_zeros_above_the_leading_one(width: int) -> None:
    m = Module()
    value = Signal(width)
    zeros = leading_zeros(m, value, "zeros")
    pick = random.Random(width)
    values = [*range(min(1 << width, 256)), *(1 << k for k in range(width))]
    values += [pick.getrandbits(width) for _ in range(200)]
    seen: list[tuple[int, int]] = []

    async def bench(ctx: SimulatorContext) -> None:
        for x in values:
            ctx.set(value, x)
            seen.append((x, ctx.get(zeros)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    wrong = [(x, got) for x, got in seen if got != width - x.bit_length()]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("width", [13, 32])
def test_leading_zeros_cut_into_two_stages_counts_the_same_a_cycle_later(width: int) -> None:
    m = Module()
    value = Signal(width)

    def cut(part: Value, name: str) -> Signal:
        reg = Signal.like(part, name=name)
        m.d.sync += reg.eq(part)
        return reg

    zeros = leading_zeros(m, value, "zeros", cut=cut, group=4)
    pick = random.Random(width)
    values = [0, *(1 << k for k in range(width)), *(pick.getrandbits(width) for _ in range(200))]
    seen: list[tuple[int, int, int]] = []  # value, count before the clock edge, after it

    async def bench(ctx: SimulatorContext) -> None:
        for x in values:
            ctx.set(value, x)
            before = ctx.get(zeros)
            await ctx.tick()
            seen.append((x, before, ctx.get(zeros)))

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    expected = [width - x.bit_length() for x in values]
    assert [after for _, _, after in seen] == expected
    # Before the edge the count is still the previous value's: the cut is a register.
    assert [before for _, before, _ in seen[1:]] == expected[:-1]
