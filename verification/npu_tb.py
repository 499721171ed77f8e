"""cocotb testbench of the whole NPU through its AMBA ports, driven by cocotbext-axi: memories
loaded over AXI4-Stream, commands over AXI4-Lite, results read back over AXI4-Stream, with and
without random idle cycles and backpressure on every channel."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles

from hwgen.npu import csr
from hwgen.npu.csr import Reg
from hwgen.npu.descriptor import register_widths
from hwgen.npu.errors import NpuError
from hwgen.sim_models.npu import SETUP_CYCLES, ConvCommand, cycles, execute
from verification.npu_data import random_command, random_memories
from verification.npu_env import decode
from verification.npu_host import NpuHost

CONFIG = decode()


async def start(dut: HierarchyObject, stall: float, seed: int) -> NpuHost:
    Clock(dut.aclk, 10, unit="ns").start()
    host = NpuHost(dut, CONFIG, stall, seed)
    dut.aresetn.value = 0
    await ClockCycles(dut.aclk, 4)
    dut.aresetn.value = 1
    await ClockCycles(dut.aclk, 2)
    return host


@cocotb.test(timeout_time=200, timeout_unit="ms")
@cocotb.parametrize(stall=[0.0, 0.4])
async def commands_through_the_bus(dut: HierarchyObject, stall: float) -> None:
    host = await start(dut, stall, seed=int(stall * 10))
    assert await host.regs.read_dword(Reg.ID) == csr.MAGIC
    assert (await host.regs.read_dword(Reg.HW_CONFIG)) == csr.HwConfig.of(CONFIG).word
    rng = np.random.default_rng(CONFIG.array + int(stall * 10))
    mem = random_memories(CONFIG, rng)
    await host.load(mem)
    for n in range(6):
        cmd = random_command(CONFIG, rng)
        counters = await host.run(cmd)
        assert counters["error"] == NpuError.NONE, counters
        assert counters["busy_cycles"] == cycles(cmd, CONFIG)
        execute(mem, cmd)
        got = await host.read_out(cmd.out_base, cmd.rows)
        want = mem.out[cmd.out_base : cmd.out_base + cmd.rows]
        if not np.array_equal(got, want):
            row, lane = (int(v) for v in np.argwhere(got != want)[0])
            raise AssertionError(
                f"#{n} {cmd}: word {cmd.out_base + row} lane {lane}: "
                f"expected {want[row, lane]}, got {got[row, lane]}"
            )


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def refused_command_raises_done_with_error_and_irq(dut: HierarchyObject) -> None:
    host = await start(dut, 0.0, seed=0)
    await host.regs.write_dword(Reg.CTRL, csr.CTRL_IRQ_ENABLE)
    bad = ConvCommand(**{**ConvCommand.gemm(2, 1, 1).as_dict(), "kernel_w": 0})
    for name, value in bad.as_dict().items():
        await host.regs.write_dword(csr.descriptor_offset(name), value)
    await host.regs.write_dword(Reg.CTRL, csr.CTRL_START | csr.CTRL_IRQ_ENABLE)
    # Refused once the command's sizes are known: after the setup, not a cycle later.
    await ClockCycles(dut.aclk, SETUP_CYCLES + 2)
    status = await host.regs.read_dword(Reg.STATUS)
    assert status & csr.STATUS_DONE and not status & csr.STATUS_BUSY
    assert (status >> csr.STATUS_ERROR_SHIFT) & 0xF == NpuError.ZERO_DIMENSION
    assert int(dut.irq.value) == 1
    await host.regs.write_dword(Reg.STATUS, csr.STATUS_DONE)
    await ClockCycles(dut.aclk, 2)
    assert int(dut.irq.value) == 0
    # An unmapped register answers SLVERR.
    response = await host.regs.read(0xFC, 4)
    assert response.resp != 0


@cocotb.test(timeout_time=10, timeout_unit="ms")
async def a_field_beyond_its_register_is_refused_as_written(dut: HierarchyObject) -> None:
    """A narrowed descriptor register keeps all ones for a value it cannot hold, which the
    checks refuse with the error the written value deserves, not a wrapped one that runs (the
    descriptor is write-only: the error code is what shows it)."""
    host = await start(dut, 0.0, seed=0)
    widths = register_widths(CONFIG)
    good = ConvCommand.gemm(2, 1, 1).as_dict()
    # Wrapped to its register width, each of these would be a command that runs.
    cases = [
        ("in_h", NpuError.ACT_RANGE),
        ("out_w", NpuError.OUT_RANGE),
        ("weight_base", NpuError.WEIGHT_RANGE),
    ]
    for name, code in cases:
        width = widths[name]
        assert width < 16, f"{name} is not narrowed at this config"
        for field, value in {**good, name: (1 << width) + good[name]}.items():
            await host.regs.write_dword(csr.descriptor_offset(field), value)
        await host.regs.write_dword(Reg.CTRL, csr.CTRL_START)
        await ClockCycles(dut.aclk, SETUP_CYCLES + 2)
        status = await host.regs.read_dword(Reg.STATUS)
        assert status & csr.STATUS_DONE, name
        assert (status >> csr.STATUS_ERROR_SHIFT) & 0xF == code, f"{name}: status {status:#x}"
        await host.regs.write_dword(Reg.STATUS, csr.STATUS_DONE)


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def descriptor_is_read_only_while_a_command_runs(dut: HierarchyObject) -> None:
    """The core reads the command from the descriptor registers for as long as it runs: a
    write in that time answers SLVERR and the running command's results are still right."""
    host = await start(dut, 0.0, seed=3)
    rng = np.random.default_rng(CONFIG.array + 99)
    mem = random_memories(CONFIG, rng)
    await host.load(mem)
    cmd = random_command(CONFIG, rng)
    for name, value in cmd.as_dict().items():
        await host.regs.write_dword(csr.descriptor_offset(name), value & 0xFFFFFFFF)
    await host.regs.write_dword(Reg.CTRL, csr.CTRL_START)
    assert (await host.regs.read_dword(Reg.STATUS)) & csr.STATUS_BUSY
    for name in ("out_base", "cout_blocks", "kernel_w"):
        response = await host.regs.write(csr.descriptor_offset(name), (1).to_bytes(4, "little"))
        assert response.resp != 0, f"a write to {name} while busy was accepted"
        # Write-only: a read answers 0, and the results below show the write changed nothing.
        assert await host.regs.read_dword(csr.descriptor_offset(name)) == 0
    while not (await host.regs.read_dword(Reg.STATUS)) & csr.STATUS_DONE:
        pass
    await host.regs.write_dword(Reg.STATUS, csr.STATUS_DONE)
    execute(mem, cmd)
    got = await host.read_out(cmd.out_base, cmd.rows)
    assert np.array_equal(got, mem.out[cmd.out_base : cmd.out_base + cmd.rows])
    # Idle again, the descriptor takes writes.
    response = await host.regs.write(csr.descriptor_offset("out_base"), (1).to_bytes(4, "little"))
    assert response.resp == 0
