"""cocotb testbench of the whole NPU with its system memory (the co-simulation's top): random
layers' programs run from system memory, which the testbench writes and reads in place (no
bulk data through Python), registers through cocotbext-axi. Every byte the NPU writes equals
the functional model's, and every cycle counter the cycle model's; programs that fail report
the functional model's error at the failing command."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from hwgen.npu import csr
from hwgen.npu.commands import RECORD_BYTES, Compute, Load, Pattern, encode_program
from hwgen.npu.csr import Reg
from hwgen.npu.errors import NpuError
from hwgen.sim import sysmem
from hwgen.sim_models.npu import NpuMemories
from hwgen.sim_models.npu_program import run_program
from verification.npu_env import decode
from verification.npu_programs import expected, layer_case

CONFIG = decode()


async def start(dut: HierarchyObject) -> AxiLiteMaster:
    Clock(dut.aclk, 10, unit="ns").start()
    regs = AxiLiteMaster(
        AxiLiteBus.from_prefix(dut, "s_axil"), dut.aclk, dut.aresetn, reset_active_level=False
    )
    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)
    return regs


def attach(dut: HierarchyObject, memory: np.ndarray) -> None:
    sysmem.attach(memory.ctypes.data, memory.size)
    dut.sysmem_bytes.value = memory.size


async def run(dut: HierarchyObject, regs: AxiLiteMaster, address: int, count: int) -> dict:
    await regs.write_dword(Reg.PROG_ADDR, address)
    await regs.write_dword(Reg.PROG_COUNT, count)
    await regs.write_dword(Reg.CTRL, csr.CTRL_START | csr.CTRL_IRQ_ENABLE)
    await RisingEdge(dut.irq)
    status = await regs.read_dword(Reg.STATUS)
    assert status & csr.STATUS_DONE, hex(status)
    await regs.write_dword(Reg.STATUS, csr.STATUS_DONE)
    names = ("BUSY_CYCLES", "LOAD_CYCLES", "CORE_CYCLES", "STORE_CYCLES", "MAC_CYCLES")
    found = {name: await regs.read_dword(Reg[name]) for name in names}
    found["error"] = NpuError((status >> csr.STATUS_ERROR_SHIFT) & 0xF)
    found["command"] = await regs.read_dword(Reg.ERROR_COMMAND)
    return found


@cocotb.test(timeout_time=500, timeout_unit="ms")
async def layers_run_as_the_models_say(dut: HierarchyObject) -> None:
    regs = await start(dut)
    assert await regs.read_dword(Reg.ID) == csr.MAGIC
    assert await regs.read_dword(Reg.HW_CONFIG) == csr.HwConfig.of(CONFIG).word
    assert await regs.read_dword(Reg.CONFIG_ID) == csr.config_id(CONFIG)
    rng = np.random.default_rng(CONFIG.array)
    for n in range(8):
        case = layer_case(CONFIG, rng)
        memory = case.sysmem.copy()
        attach(dut, memory)
        want, outcome, timing = expected(case, CONFIG)
        got = await run(dut, regs, case.program_addr, len(case.commands))
        assert sysmem.fault() is None, hex(sysmem.fault() or 0)
        assert got["error"] is NpuError.NONE and outcome.error is NpuError.NONE, got
        differ = np.flatnonzero(memory != want)
        assert differ.size == 0, (
            f"layer {n} ({case.shape}, {case.tiling.describe()}): {differ.size} bytes differ, "
            f"the first at {differ[0]} (output at {case.output[0]}): "
            f"got {memory[differ[0]]}, expected {want[differ[0]]}"
        )
        model = {
            "BUSY_CYCLES": timing.busy,
            "LOAD_CYCLES": timing.engines["load"],
            "CORE_CYCLES": timing.engines["core"],
            "STORE_CYCLES": timing.engines["store"],
            "MAC_CYCLES": timing.mac,
        }
        assert {k: got[k] for k in model} == model, (n, case.tiling.describe(), got, model)


@cocotb.test(timeout_time=100, timeout_unit="ms")
async def failing_programs_report_the_command(dut: HierarchyObject) -> None:
    regs = await start(dut)
    rng = np.random.default_rng(99)
    case = layer_case(CONFIG, rng)
    size = case.sysmem.size
    load = next(c for c in case.commands if isinstance(c, Load))
    compute = next(c for c in case.commands if isinstance(c, Compute))
    bad_conv = {**compute.conv, "out_base": 2 * CONFIG.out_depth - 1, "out_w": 2}
    programs = {
        "misaligned": [load, Load(load.buffer, 0, 0, 1, Pattern(1))],
        "past the bank": [
            Load(load.buffer, 1, CONFIG.act_depth - 1, 0, Pattern(8 * CONFIG.array // 8))
        ],
        "out of range": [load, Compute(bad_conv, 0, 0, 1)],
        "outside memory": [Load(load.buffer, 0, 0, size + 3 * 4096, Pattern(4))],
    }
    for name, commands in programs.items():
        memory = np.zeros(size + 2 * 4096, np.uint8)
        memory[: len(commands) * RECORD_BYTES] = np.frombuffer(encode_program(commands), np.uint8)
        memory[: case.sysmem.size][len(commands) * RECORD_BYTES :] = case.sysmem[
            len(commands) * RECORD_BYTES :
        ]
        attach(dut, memory)
        outcome = run_program(NpuMemories.empty(CONFIG), CONFIG, memory.copy(), commands)
        got = await run(dut, regs, 0, len(commands))
        assert outcome.error is not NpuError.NONE, name
        assert (got["error"], got["command"]) == (outcome.error, outcome.command), (
            name,
            got,
            outcome,
        )
    got = await run(dut, regs, 0, CONFIG.cmd_depth + 1)
    assert got["error"] is NpuError.PROGRAM_SIZE
