"""cocotb testbench of the NPU as delivered (the generated npu_top wrapper): its AXI4 master on
cocotbext-axi's AxiRam and its registers on cocotbext-axi's AXI4-Lite master, every channel of
both with random idle cycles and backpressure. Random layers' programs run to the bytes the
functional model writes, with the array's steps (MAC_CYCLES) as the cycle model counts them:
the other counters stretch with the stalls, the model's figures hold for the fixed-latency
memory of the co-simulation (npu_tb)."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiRam

from hwgen.npu import csr
from hwgen.npu.csr import Reg
from hwgen.npu.errors import NpuError
from hwgen.sim.axi_port import random_pauses, register_master
from verification.npu_env import decode
from verification.npu_programs import expected, layer_case

CONFIG = decode()
STALL = 0.3
RAM_BYTES = 1 << 20


def stall_every_channel(ram: AxiRam, seed: int) -> None:
    channels = [
        ram.write_if.aw_channel,
        ram.write_if.w_channel,
        ram.write_if.b_channel,
        ram.read_if.ar_channel,
        ram.read_if.r_channel,
    ]
    for k, channel in enumerate(channels):
        channel.set_pause_generator(random_pauses(seed + k, STALL))


@cocotb.test(timeout_time=2, timeout_unit="sec")
async def layers_run_under_backpressure(dut: HierarchyObject) -> None:
    Clock(dut.aclk, 10, unit="ns").start()
    regs = register_master(dut, stall=STALL, seed=7)
    ram = AxiRam(
        AxiBus.from_prefix(dut, "m_axi"),
        dut.aclk,
        dut.aresetn,
        reset_active_level=False,
        size=RAM_BYTES,
    )
    stall_every_channel(ram, seed=11)
    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)
    rng = np.random.default_rng(CONFIG.array + 5)
    for n in range(4):
        case = layer_case(CONFIG, rng)
        want, outcome, timing = expected(case, CONFIG)
        assert outcome.error is NpuError.NONE
        ram.write(0, case.sysmem.tobytes())
        await regs.write_dword(Reg.PROG_ADDR, case.program_addr)
        await regs.write_dword(Reg.PROG_COUNT, len(case.commands))
        await regs.write_dword(Reg.CTRL, csr.CTRL_START | csr.CTRL_IRQ_ENABLE)
        await RisingEdge(dut.irq)
        status = await regs.read_dword(Reg.STATUS)
        await regs.write_dword(Reg.STATUS, csr.STATUS_DONE)
        assert (status >> csr.STATUS_ERROR_SHIFT) & 0xF == NpuError.NONE, hex(status)
        got = np.frombuffer(ram.read(0, case.sysmem.size), np.uint8)
        differ = np.flatnonzero(got != want)
        assert differ.size == 0, (
            f"layer {n} ({case.shape}, {case.tiling.describe()}): {differ.size} bytes differ, "
            f"the first at {differ[0]}: got {got[differ[0]]}, expected {want[differ[0]]}"
        )
        assert await regs.read_dword(Reg.MAC_CYCLES) == timing.mac
        # Stalls only add cycles to what the fixed-latency memory takes.
        assert await regs.read_dword(Reg.BUSY_CYCLES) > timing.busy
