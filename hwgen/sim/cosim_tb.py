"""cocotb test that runs a network's host C against its NPU RTL: HAL calls from the C (in a
bridge thread) become AXI transactions; every layer is checked against the golden model."""

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

from hwgen.backends.c import BitMismatchError, HostProgram
from hwgen.backends.host import build_network
from hwgen.codegen.c_network import LayerC
from hwgen.compiler import CompileOptions
from hwgen.frontend import load
from hwgen.ir import Target
from hwgen.npu.csr import Reg
from hwgen.sim.axi_port import AxiNpuBus, AxiNpuPort

CLOCK_NS = 10


@cocotb.test()
async def run_network(dut: Any) -> None:  # a HierarchyObject; its signals are untyped
    job = json.loads(Path(os.environ["HWGEN_COSIM_JOB"]).read_text())
    Clock(dut.aclk, CLOCK_NS, unit="ns").start()
    bus = AxiNpuBus(dut, stall=float(job.get("stall", 0.0)))
    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)

    graph = load(job["model"])
    built = build_network(
        graph, CompileOptions(array=job["array"], l1=job["l1"]), Path(job["build"])
    )
    port = AxiNpuPort(bus)
    with np.load(job["inputs"]) as data:
        batches = {name: data[name] for name in data.files}
    count = len(next(iter(batches.values())))
    npu_layers = {n.name for n in built.graph.nodes if n.target is Target.NPU}
    layer_cycles: dict[str, int] = {}

    def after_layer(layer: LayerC) -> None:
        if layer.node in npu_layers:  # the NPU's counter of the command just finished
            layer_cycles[layer.node] = port.read32(Reg.BUSY_CYCLES)

    @bridge
    def run_all() -> list[dict[str, np.ndarray]]:
        program = HostProgram(built.library, built.network, built.graph, port)
        return [
            program.run_checked({k: v[i] for k, v in batches.items()}, after_layer)
            for i in range(count)
        ]

    result: dict[str, object] = {"mismatch": None}
    began = time.perf_counter()
    sim_began = get_sim_time("ns")
    try:
        outputs = await run_all()
    except BitMismatchError as exc:
        result["mismatch"] = exc.mismatch.describe()
        Path(job["result"]).write_text(json.dumps(result))
        raise
    wall = time.perf_counter() - began
    cycles = int((get_sim_time("ns") - sim_began) // CLOCK_NS)
    result.update(
        wall_seconds=wall, simulated_cycles=cycles, layer_cycles=layer_cycles, inputs=count
    )
    savez: Any = np.savez  # numpy's stub types **kwds as its own flags
    savez(job["outputs"], **{k: np.stack([o[k] for o in outputs]) for k in outputs[0]})
    Path(job["result"]).write_text(json.dumps(result))
