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


@pytest.mark.parametrize(
    ("count", "signed_shape"), [(1, False), (2, True), (3, False), (3, True), (5, True)]
)
def test_carry_save_sum_is_the_sum_modulo_its_width(count: int, signed_shape: bool) -> None:
    from amaranth import signed, unsigned

    from hwgen.npu.arith import carry_save_sum

    width = 20
    shape = signed(width) if signed_shape else unsigned(width)
    m = Module()
    terms = [Signal(signed(14) if signed_shape and k % 2 else unsigned(14)) for k in range(count)]
    total = carry_save_sum(m, [t << (2 * k) for k, t in enumerate(terms)], shape, "total")
    pick = random.Random(count)
    cases = [
        [
            pick.randrange(-(1 << 13), 1 << 13) if t.shape().signed else pick.getrandbits(14)
            for t in terms
        ]
        for _ in range(300)
    ]
    cases.append([(1 << 14) - 1 if not t.shape().signed else -(1 << 13) for t in terms])
    seen: list[tuple[list[int], int]] = []

    async def bench(ctx: SimulatorContext) -> None:
        for values in cases:
            for t, v in zip(terms, values, strict=True):
                ctx.set(t, v)
            seen.append((values, ctx.get(total)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    for values, got in seen:
        want = sum(v << (2 * k) for k, v in enumerate(values)) % (1 << width)
        if signed_shape and want >= 1 << (width - 1):
            want -= 1 << width
        assert got == want, (values, got, want)
