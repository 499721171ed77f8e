"""The NPU's register map (AXI4-Lite, 32-bit words). One table that the RTL, the testbenches,
the functional model and the host driver (npu_config.h) all read."""

from __future__ import annotations

import enum
import json
import zlib
from dataclasses import dataclass

from hwgen.npu.config import NpuConfig, RequantMode

MAGIC = 0x4E505531  # "NPU1"


class Reg(enum.IntEnum):
    """Byte offsets."""

    ID = 0x00  # RO: MAGIC
    HW_CONFIG = 0x04  # RO: array M [7:0], requant mode [8] (1 = shift), bus beat bytes [23:16]
    CTRL = 0x08  # W: START [0] (self-clearing); RW: IRQ_ENABLE [1]
    STATUS = 0x0C  # RO: BUSY [0], DONE [1] (sticky, write 1 to clear), ERROR [7:4]
    CYCLES = 0x10  # RO: free-running cycle counter
    BUSY_CYCLES = 0x14  # RO: cycles of the last program, from START to DONE
    STALL_CYCLES = 0x18  # RO: of its core's, cycles the array waited for the requant lane
    MAC_CYCLES = 0x1C  # RO: cycles the array took a step (M^2 MACs each)
    PROG_ADDR = 0x20  # RW: the program's byte address in system memory
    PROG_COUNT = 0x24  # RW: its commands
    LOAD_CYCLES = 0x28  # RO: cycles the loader was busy (the program's fetch included)
    CORE_CYCLES = 0x2C  # RO: cycles the core was busy
    STORE_CYCLES = 0x30  # RO: cycles the storer was busy
    ERROR_COMMAND = 0x34  # RO: the index of the command that stopped the program
    CONFIG_ID = 0x38  # RO: a checksum of the NpuConfig the RTL was generated for


CTRL_START = 1 << 0
CTRL_IRQ_ENABLE = 1 << 1
STATUS_BUSY = 1 << 0
STATUS_DONE = 1 << 1
STATUS_ERROR_SHIFT = 4
ADDR_WIDTH = 8  # byte address bits: 64 words


def config_id(config: NpuConfig) -> int:
    """CONFIG_ID: a build's driver refuses an NPU generated from another configuration."""
    text = json.dumps(config.as_dict(), sort_keys=True).encode()
    return zlib.crc32(text)


@dataclass(frozen=True)
class HwConfig:
    """What the HW_CONFIG register tells of an NPU: array M [7:0], requant mode [8] (1 = shift),
    the DMA bus's beat bytes [23:16]."""

    array: int
    shift: bool
    beat_bytes: int

    @staticmethod
    def of(config: NpuConfig) -> HwConfig:
        return HwConfig(config.array, config.requant is RequantMode.SHIFT, config.data_width // 8)

    @staticmethod
    def decode(word: int) -> HwConfig:
        return HwConfig(word & 0xFF, bool(word >> 8 & 1), word >> 16 & 0xFF)

    @property
    def word(self) -> int:
        return self.array | (int(self.shift) << 8) | (self.beat_bytes << 16)

    def describe(self) -> str:
        mode = "shift" if self.shift else "ort"
        bits = 8 * self.beat_bytes
        return f"{self.array}x{self.array} with {mode} requant and a {bits}-bit data port"
