"""The command products and overflow flags of both setups (serial, multiplier) against Python
integers, at their fixed latency."""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator, SimulatorContext

from hwgen.npu.command_setup import PROGRAM, command_setup, setup_cycles
from hwgen.npu.config import NpuConfig
from hwgen.npu.descriptor import CONV_DESCRIPTOR

OPERANDS = {name for p in PROGRAM for name in (p.a, p.b)}


def expected(fields: dict[str, int], word: int) -> dict[str, tuple[int, bool]]:
    """Each kept product as (its low `word` bits, whether it is 2^word or more)."""
    true = dict(fields)
    for p in PROGRAM:
        true[p.name] = true[p.a] * true[p.b]
    return {
        p.name: (true[p.name] % (1 << word), true[p.name] >> word != 0) for p in PROGRAM if p.kept
    }


def random_fields(rng: random.Random, word: int) -> dict[str, int]:
    """Fields of every size around the word: zeros, ones, just below and above 2^word, and
    the field's whole range (wider than the word, so an operand's own flag is set)."""
    fields = {}
    for name, field in CONV_DESCRIPTOR:
        if name not in OPERANDS:
            continue
        width = field.shape.width
        bits = rng.choice([0, 1, 2, word // 2, word - 1, word, word + 1, width])
        fields[name] = rng.getrandbits(min(bits, width)) if bits else rng.choice([0, 1])
    return fields


@pytest.mark.parametrize("serial", [True, False], ids=["serial", "multiplier"])
@pytest.mark.parametrize("act_depth", [1024, 4096])
def test_products_and_their_overflow_match_integers(act_depth: int, serial: bool) -> None:
    config = NpuConfig(
        array=4, act_depth=act_depth, weight_depth=256, out_depth=256, serial_setup=serial
    )
    word = config.product_width
    dut = command_setup(config)
    latency = setup_cycles(config)
    rng = random.Random(act_depth)
    commands = [random_fields(rng, word) for _ in range(40)]
    # Sizes whose low bits wrap to 0 and operands whose only nonzero bits lie above the word.
    commands.append({**commands[0], "in_w": 1 << word, "cin_blocks": 1, "in_h": 1})
    commands.append({**commands[0], "in_w": 1, "cin_blocks": 1, "in_h": 1 << word})
    commands.append({**commands[0], "in_w": 0, "in_h": 1 << word})
    seen: list[tuple[dict[str, int], dict[str, tuple[int, bool]]]] = []

    async def bench(ctx: SimulatorContext) -> None:
        for fields in commands:
            for name, value in fields.items():
                ctx.set(dut.cmd[name], value)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            # The cycle model counts on the latency being fixed: setup_cycles - 1 cycles after
            # the edge that takes `start`.
            for _ in range(latency - 2):
                await ctx.tick()
                assert not ctx.get(dut.done)
            await ctx.tick()
            assert ctx.get(dut.done), f"no done {latency - 1} cycles after start"
            got = {
                p.name: (
                    ctx.get(dut.derived[p.name].value),
                    bool(ctx.get(dut.derived[p.name].overflow)),
                )
                for p in PROGRAM
                if p.kept
            }
            seen.append((fields, got))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == len(commands)
    for fields, got in seen:
        want = expected(fields, word)
        wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
        assert not wrong, f"{fields}: (got, want) {wrong}"
