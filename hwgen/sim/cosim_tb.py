"""cocotb test that runs a build's host C against its NPU RTL with system memory (the
co-simulation top, hwgen.sim.sim_top): HAL calls from the C (in a bridge thread) become register
transactions and waits for the interrupt; every layer is checked against the golden model.

It reads the job that hwgen.backends.cosim wrote (the build, the library already built, the
inputs) and answers with the outputs and a result file: the layer cycles, or the one-line error
a user sees."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.task import bridge
from cocotb.triggers import ClockCycles

from hwgen.backends.base import RunResult
from hwgen.backends.cosim import JOB_VARIABLE
from hwgen.backends.host import run_host_checked
from hwgen.build import Build
from hwgen.errors import HwgenError
from hwgen.sim import sysmem
from hwgen.sim.axi_port import AxiNpuPort, register_master

CLOCK_NS = 10


@cocotb.test()
async def run_network(dut: Any) -> None:  # a HierarchyObject; its signals are untyped
    job = json.loads(Path(os.environ[JOB_VARIABLE]).read_text())
    result_file = Path(job["result"])
    Clock(dut.aclk, CLOCK_NS, unit="ns").start()
    regs = register_master(dut, stall=float(job["stall"]))
    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)

    build = Build.open(job["build"])
    port = AxiNpuPort(dut, regs)
    with np.load(job["inputs"]) as data:
        batches = {name: data[name] for name in data.files}
    count = len(next(iter(batches.values())))
    feeds = [{k: v[i] for k, v in batches.items()} for i in range(count)]

    @bridge
    def run_all() -> RunResult:
        return run_host_checked(build, Path(job["library"]), port, feeds, "the co-simulation")

    began = time.perf_counter()
    sim_began = get_sim_time("ns")
    try:
        result = await run_all()
        fault = sysmem.fault()
        if fault is not None:
            raise HwgenError(f"the NPU went outside system memory, at address 0x{fault:x}")
    except HwgenError as exc:
        result_file.write_text(json.dumps({"error": exc.message}))
        raise
    cycles = int((get_sim_time("ns") - sim_began) // CLOCK_NS)
    savez: Any = np.savez  # numpy's stub types **kwds as its own flags
    savez(
        job["outputs"], **{k: np.stack([o[k] for o in result.outputs]) for k in result.outputs[0]}
    )
    result_file.write_text(
        json.dumps(
            {
                "wall_seconds": time.perf_counter() - began,
                "simulated_cycles": cycles,
                "layer_cycles": result.layer_cycles,
            }
        )
    )
