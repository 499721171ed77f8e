"""The NPU's register map (AXI4-Lite, 32-bit words). One table that the RTL, the testbenches
and the host driver all read."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.descriptor import CONV_DESCRIPTOR

MAGIC = 0x4E505531  # "NPU1"


class Reg(enum.IntEnum):
    """Byte offsets."""

    ID = 0x00  # RO: MAGIC
    HW_CONFIG = 0x04  # RO: array M [7:0], requant mode [8] (1 = shift), data width / 8 [23:16]
    CTRL = 0x08  # W: START [0] (self-clearing); RW: IRQ_ENABLE [1]
    STATUS = 0x0C  # RO: BUSY [0], DONE [1] (sticky, write 1 to clear), ERROR [7:4]
    CYCLES = 0x10  # RO: free-running cycle counter
    BUSY_CYCLES = 0x14  # RO: cycles the last command was busy
    STALL_CYCLES = 0x18  # RO: of those, cycles the array waited for the requant lane
    MAC_CYCLES = 0x1C  # RO: cycles the array took a step (M^2 MACs each)
    DMA_TARGET = 0x20  # RW: memory the data port reads or writes (DmaTarget)
    DMA_ADDR = 0x24  # RW: first word address
    DMA_COUNT = 0x28  # RW: words to send on the output stream
    DMA_CTRL = 0x2C  # W: READ [0] starts sending DMA_COUNT output words; RO: READ busy [0]
    DESCRIPTOR = 0x40  # RW: one word per descriptor field, in CONV_DESCRIPTOR order


class DmaTarget(enum.IntEnum):
    ACT_BANK0 = 0
    ACT_BANK1 = 1
    WEIGHTS = 2
    PARAMS = 3


CTRL_START = 1 << 0
CTRL_IRQ_ENABLE = 1 << 1
STATUS_BUSY = 1 << 0
STATUS_DONE = 1 << 1
STATUS_ERROR_SHIFT = 4
DMA_READ = 1 << 0

DESCRIPTOR_FIELDS: tuple[str, ...] = tuple(name for name, _ in CONV_DESCRIPTOR)
ADDR_WIDTH = 8  # byte address bits: 64 words


def descriptor_offset(field: str) -> int:
    return int(Reg.DESCRIPTOR) + 4 * DESCRIPTOR_FIELDS.index(field)


@dataclass(frozen=True)
class HwConfig:
    """What the HW_CONFIG register tells of an NPU: array M [7:0], requant mode [8] (1 = shift),
    data-port beat bytes [23:16]."""

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
