"""RegisterSlice: every beat through in order under random valid and ready, a beat every cycle
when the receiver always takes, and `i.ready` a register."""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator, SimulatorContext

from hwgen.npu.register_slice import RegisterSlice


def run(offer: float, take: float, beats: int, seed: int) -> tuple[list[int], int]:
    """The payloads received, and the cycles it took, with the sender offering and the receiver
    taking at these rates."""
    dut = RegisterSlice(16)
    rng = random.Random(seed)
    received: list[int] = []
    cycles = 0

    async def bench(ctx: SimulatorContext) -> None:
        nonlocal cycles
        sent = 0
        while len(received) < beats:
            offering = sent < beats and rng.random() < offer
            ctx.set(dut.i.valid, offering)
            ctx.set(dut.i.payload, sent)
            ctx.set(dut.o.ready, rng.random() < take)
            if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
                received.append(ctx.get(dut.o.payload))
            if offering and ctx.get(dut.i.ready):
                sent += 1
            await ctx.tick()
            cycles += 1

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return received, cycles


@pytest.mark.parametrize(("offer", "take"), [(1.0, 0.5), (0.5, 1.0), (0.7, 0.7), (1.0, 0.1)])
def test_every_beat_arrives_in_order(offer: float, take: float) -> None:
    received, _ = run(offer, take, 200, seed=int(100 * offer + take))
    assert received == list(range(200))


def test_a_beat_every_cycle_when_always_taken() -> None:
    # The first beat leaves the cycle after it is taken, then one a cycle.
    _, cycles = run(1.0, 1.0, 100, seed=0)
    assert cycles == 101


def test_ready_depends_on_no_input() -> None:
    dut = RegisterSlice(8)
    seen: list[int] = []

    async def bench(ctx: SimulatorContext) -> None:
        ctx.set(dut.i.valid, 1)
        await ctx.tick()  # one beat into the output register
        await ctx.tick()  # one into the skid: the output is not taken
        for ready in (0, 1, 0):
            ctx.set(dut.o.ready, ready)
            seen.append(ctx.get(dut.i.ready))  # in the same cycle as `o.ready` changes

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [0, 0, 0]
