"""cocotb benchmark of the compute core: a 256x256x256 GEMM and a 3x3 convolution
32x32x64 -> 64, outputs checked against sim_models.npu, utilization from the RTL's counters."""

from __future__ import annotations

import json
import os
import time

import cocotb
import numpy as np
from cocotb.handle import HierarchyObject

from hwgen.sim_models.npu import ConvCommand, cycles, execute
from verification.core_driver import CoreDriver
from verification.npu_data import random_memories
from verification.npu_env import decode

CONFIG = decode()
M = CONFIG.array

WORKLOADS = {
    "gemm": ConvCommand.gemm(256, 256 // M, 256 // M),
    "conv3x3": ConvCommand(32, 32, 64 // M, 32, 32, 64 // M, 3, 3, pad_top=1, pad_left=1),
}


@cocotb.test(timeout_time=1, timeout_unit="sec")
async def utilization(dut: HierarchyObject) -> None:
    driver = CoreDriver(dut, CONFIG)
    await driver.reset()
    mem = random_memories(CONFIG, np.random.default_rng(0))
    await driver.load(mem)
    results: dict[str, float] = {}
    simulated = 0
    wall = 0.0
    for name, cmd in WORKLOADS.items():
        began = time.perf_counter()
        counters = await driver.run(cmd)
        wall += time.perf_counter() - began
        simulated += counters["busy_cycles"]
        assert counters["error"] == 0, counters
        execute(mem, cmd)
        addresses = list(range(cmd.out_base, cmd.out_base + cmd.rows))
        got = await driver.read_out(addresses)
        assert np.array_equal(got, mem.out[addresses]), f"{name}: outputs differ from the model"
        model = cycles(cmd, CONFIG)
        macs = cmd.steps * M * M
        results[f"{name}_busy_cycles"] = counters["busy_cycles"]
        results[f"{name}_model_cycles"] = model
        results[f"{name}_utilization"] = macs / (counters["busy_cycles"] * M * M)
    results["rtl_sim_cycles_per_second"] = simulated / wall
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(results, f, indent=2)
