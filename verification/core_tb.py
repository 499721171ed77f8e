"""cocotb testbench of the compute core: random convolutions and GEMMs (strides, padding,
dilation, sizes that are not multiples of M) against sim_models.npu, outputs and cycles."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.handle import HierarchyObject

from hwgen.npu.errors import NpuError
from hwgen.sim_models.npu import ConvCommand, cycles, execute, setup_cycles
from verification.core_driver import CoreDriver
from verification.npu_data import random_command, random_memories
from verification.npu_env import decode

CONFIG = decode()


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def random_commands_match_model(dut: HierarchyObject) -> None:
    driver = CoreDriver(dut, CONFIG)
    await driver.reset()
    rng = np.random.default_rng(CONFIG.array * 31 + len(CONFIG.requant.value))
    mem = random_memories(CONFIG, rng)
    await driver.load(mem)
    for n in range(24):
        cmd = random_command(CONFIG, rng)
        counters = await driver.run(cmd)
        assert counters["error"] == NpuError.NONE, f"command #{n} refused: {counters}"
        execute(mem, cmd)
        addresses = sorted({cmd.out_base + r for r in range(cmd.rows)})
        got = await driver.read_out(addresses)
        want = mem.out[addresses]
        if not np.array_equal(got, want):
            row, lane = (int(v) for v in np.argwhere(got != want)[0])
            raise AssertionError(
                f"command #{n} {cmd}: output word {addresses[row]} lane {lane}: "
                f"expected {want[row, lane]}, got {got[row, lane]}"
            )
        model = cycles(cmd, CONFIG)
        assert counters["busy_cycles"] == model, f"#{n}: RTL {counters} vs model {model} cycles"
        assert counters["mac_cycles"] == cmd.steps


@cocotb.test(timeout_time=1, timeout_unit="ms")
async def bad_commands_are_refused(dut: HierarchyObject) -> None:
    driver = CoreDriver(dut, CONFIG)
    await driver.reset()
    good = ConvCommand.gemm(2, 1, 1)
    cases = {
        NpuError.ZERO_DIMENSION: ConvCommand(**{**good.as_dict(), "stride_h": 0}),
        NpuError.ACT_RANGE: ConvCommand(**{**good.as_dict(), "act_base": CONFIG.act_depth - 1}),
        NpuError.WEIGHT_RANGE: ConvCommand(
            **{**good.as_dict(), "weight_base": CONFIG.weight_words}
        ),
        NpuError.PARAM_RANGE: ConvCommand(**{**good.as_dict(), "param_base": CONFIG.param_words}),
        NpuError.OUT_RANGE: ConvCommand(**{**good.as_dict(), "out_base": CONFIG.out_words - 1}),
    }
    # Sizes of exactly 2^16 words: their low 16 bits are 0, only the overflow flag refuses them.
    wraps = {
        NpuError.ACT_RANGE: ConvCommand(**{**good.as_dict(), "in_h": 256, "in_w": 256}),
        NpuError.WEIGHT_RANGE: ConvCommand(
            **{**good.as_dict(), "cin_blocks": 16, "kernel_h": 64, "kernel_w": 64, "in_h": 1}
        ),
        NpuError.OUT_RANGE: ConvCommand(**{**good.as_dict(), "out_h": 1024, "out_w": 64}),
    }
    refused = [*cases.items(), *wraps.items()]
    if CONFIG.requant_lanes > 1:
        # Inside the memory, but its first channel is not lane 0's.
        off_lane = ConvCommand(**{**good.as_dict(), "param_base": 1})
        refused.append((NpuError.PARAM_RANGE, off_lane))
    for code, cmd in refused:
        counters = await driver.run(cmd)
        assert counters["error"] == code, f"{code.name} {cmd}: got error {counters['error']}"
        assert counters["busy_cycles"] == setup_cycles(CONFIG), f"{code.name}: {counters}"
    assert (await driver.run(good))["error"] == NpuError.NONE
