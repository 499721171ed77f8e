"""The NPU's combinational building blocks against Python integers."""

from __future__ import annotations

import random

import pytest
from amaranth import Module, Signal
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
