"""A functional NPU behind the HAL: the RTL's registers over the models of hwgen.sim_models
(what a program does to system memory and the local buffers, and how many cycles it takes), run
on the host C's own system memory, attached in place as the co-simulation attaches it."""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

from hwgen.npu import csr
from hwgen.npu.commands import RECORD_BYTES, DecodeError, decode_program
from hwgen.npu.config import NpuConfig
from hwgen.npu.csr import Reg
from hwgen.npu.errors import NpuError
from hwgen.sim_models.npu import NpuMemories
from hwgen.sim_models.npu_program import Outcome, run_program
from hwgen.sim_models.npu_timing import program_timing


class FunctionalNpu:
    def __init__(self, config: NpuConfig) -> None:
        self.config = config
        self.mem = NpuMemories.empty(config)
        self.sysmem: npt.NDArray[np.uint8] = np.zeros(0, np.uint8)
        self.irq_enable = False
        self.done = False
        self.outcome = Outcome()
        self.prog_addr = 0
        self.prog_count = 0
        self.counters = dict.fromkeys(("busy", "load", "core", "store", "mac"), 0)
        self.cycles = 0

    # -- the HAL's port ------------------------------------------------------------------

    def attach(self, address: int, size: int) -> None:
        buffer = (ctypes.c_uint8 * size).from_address(address)
        self.sysmem = np.ctypeslib.as_array(buffer)

    def flush(self, offset: int, size: int) -> None:
        """System memory is shared: nothing to do."""

    def invalidate(self, offset: int, size: int) -> None:
        """System memory is shared: nothing to do."""

    def wait(self) -> None:
        """A program runs whole when started: done already."""
        if not (self.done and self.irq_enable):
            raise RuntimeError("waiting for an NPU that will never interrupt")

    def read32(self, offset: int) -> int:
        values = {
            Reg.ID: csr.MAGIC,
            Reg.HW_CONFIG: csr.HwConfig.of(self.config).word,
            Reg.CTRL: int(self.irq_enable) << 1,
            Reg.STATUS: (int(self.done) << 1) | (int(self.outcome.error) << csr.STATUS_ERROR_SHIFT),
            Reg.CYCLES: self.cycles,
            Reg.BUSY_CYCLES: self.counters["busy"],
            Reg.STALL_CYCLES: 0,
            Reg.MAC_CYCLES: self.counters["mac"],
            Reg.PROG_ADDR: self.prog_addr,
            Reg.PROG_COUNT: self.prog_count,
            Reg.LOAD_CYCLES: self.counters["load"],
            Reg.CORE_CYCLES: self.counters["core"],
            Reg.STORE_CYCLES: self.counters["store"],
            Reg.ERROR_COMMAND: self.outcome.command,
            Reg.CONFIG_ID: csr.config_id(self.config),
        }
        if offset not in values:
            raise ValueError(f"read of unmapped NPU register 0x{offset:02x}")
        return values[Reg(offset)] & 0xFFFFFFFF

    def write32(self, offset: int, value: int) -> None:
        if offset == Reg.CTRL:
            self.irq_enable = bool(value & csr.CTRL_IRQ_ENABLE)
            if value & csr.CTRL_START:
                self._start()
        elif offset == Reg.STATUS:
            if value & csr.STATUS_DONE:
                self.done = False
        elif offset == Reg.PROG_ADDR:
            self.prog_addr = value
        elif offset == Reg.PROG_COUNT:
            self.prog_count = value & 0xFFFF
        else:
            raise ValueError(f"write to unmapped NPU register 0x{offset:02x}")

    # -- running a program ---------------------------------------------------------------

    def _start(self) -> None:
        self.done = True
        count = self.prog_count
        if not 0 < count <= self.config.cmd_depth:
            self.outcome = Outcome(NpuError.PROGRAM_SIZE)
            return
        end = self.prog_addr + count * RECORD_BYTES
        if end > self.sysmem.size:
            self.outcome = Outcome(NpuError.BUS_ERROR)
            return
        try:
            commands = decode_program(self.sysmem[self.prog_addr : end].tobytes())
        except DecodeError:
            self.outcome = Outcome(NpuError.BAD_COMMAND)
            return
        self.outcome = run_program(self.mem, self.config, self.sysmem, commands)
        timing = program_timing(commands, self.config)
        self.counters = {
            "busy": timing.busy,
            "load": timing.engines["load"],
            "core": timing.engines["core"],
            "store": timing.engines["store"],
            "mac": timing.mac,
        }
        self.cycles += timing.busy
