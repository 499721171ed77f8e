"""NpuConfig: the one description of an NPU that the generator, the C header, the cycle model
and the report all read."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from amaranth.utils import bits_for

from hwgen.errors import HwgenError


class ConfigError(HwgenError):
    """An NpuConfig that cannot be built."""


class RequantMode(enum.Enum):
    ORT = "ort"  # onnxruntime's float32 rule, emulated in integer logic
    SHIFT = "shift"  # Deeploy's RequantShift: (acc * mul + add) >> shift


ARRAY_SIZES = (2, 4, 8, 16)
REQUANT_INTERVALS = (1, 2, 4)
REQUANT_LANES = (1, 2, 4)
DATA_WIDTHS = (16, 32, 64)
BANKS = 2  # every local buffer: one bank loads or drains while the other computes
# The CSRs' and CommandSetup's operands are 16-bit fields and address both banks.
MAX_DEPTH = 1 << 15


@dataclass(frozen=True)
class NpuConfig:
    """Array size M, datapath widths, local buffer depths (in words, per bank), requant mode,
    bus widths. Chosen by the hardware budget, not by the network: the same NPU runs any
    network, its data streamed through these buffers in tiles."""

    array: int = 8
    operand_width: int = 8
    acc_width: int = 32
    act_depth: int = 2048  # M-byte activation vectors per bank
    weight_depth: int = 512  # M x M weight blocks per bank
    param_depth: int = 256  # output channels' parameters (bias, requant) per bank
    out_depth: int = 1024  # M-byte output vectors per bank
    cmd_depth: int = 256  # commands of one program the NPU holds
    requant: RequantMode = RequantMode.ORT
    # Cycles between channels entering the requant unit: 1 for a unit that takes one every
    # cycle; R > 1 for one with a multiplier R times narrower (a device short of logic).
    requant_interval: int = 1
    # Channels entering the requant unit per cycle (at an interval of 1): a row of M sums leaves
    # the array every reduction_blocks cycles, so layers with few reduction blocks (a 1x1
    # convolution over few channels) wait on requantization unless it takes several at once.
    requant_lanes: int = 1
    # Derive each command's products one bit per cycle (no multiplier: a device whose DSPs all
    # go to the array) instead of through one pipelined multiplier: 159 cycles per command
    # against 16 (hwgen.npu.command_setup).
    serial_setup: bool = False
    axil_width: int = 32
    data_width: int = 32  # the AXI4 data bus of the DMA

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("NpuConfig: " + "; ".join(problems))

    def problems(self) -> list[str]:
        found: list[str] = []
        if self.array not in ARRAY_SIZES:
            found.append(f"array size M={self.array} must be a power of two in {ARRAY_SIZES}")
        if self.operand_width != 8:
            found.append(f"operand_width={self.operand_width}: only 8-bit operands are supported")
        if self.requant is RequantMode.ORT and self.acc_width != 32:
            found.append(
                f"acc_width={self.acc_width}: ort requant reproduces onnxruntime's int32 "
                "accumulator and needs acc_width=32"
            )
        if self.acc_width > 32:
            found.append(f"acc_width={self.acc_width} is above 32, which the requant unit takes")
        elif self.acc_width < self.accumulation_bits:
            found.append(
                f"acc_width={self.acc_width} cannot hold a reduction of {self.max_reduction} "
                f"{self.operand_width}-bit products (needs {self.accumulation_bits} bits)"
            )
        for name, depth, least in (
            ("weight_depth", self.weight_depth, 1),
            ("act_depth", self.act_depth, 1),
            ("out_depth", self.out_depth, 1),
            ("param_depth", self.param_depth, self.array),
            ("cmd_depth", self.cmd_depth, 1),
        ):
            if depth < least:
                found.append(f"{name}={depth} is too small (at least {least})")
            elif depth > MAX_DEPTH:
                found.append(f"{name}={depth} is too large (at most {MAX_DEPTH})")
        if self.requant_interval not in REQUANT_INTERVALS:
            found.append(
                f"requant_interval={self.requant_interval} must be one of {REQUANT_INTERVALS}"
            )
        if self.requant_lanes not in REQUANT_LANES or self.requant_lanes > self.array:
            found.append(
                f"requant_lanes={self.requant_lanes} must be one of {REQUANT_LANES} and at most "
                f"the array size {self.array}"
            )
        elif self.requant_lanes > 1 and self.requant_interval > 1:
            found.append(
                f"requant_lanes={self.requant_lanes} with requant_interval="
                f"{self.requant_interval}: several lanes are for a unit that takes a channel "
                "every cycle"
            )
        elif self.param_depth % self.requant_lanes:
            found.append(
                f"param_depth={self.param_depth} must be a multiple of requant_lanes="
                f"{self.requant_lanes} (each lane reads its own parameter memory)"
            )
        if self.axil_width != 32:
            found.append(f"axil_width={self.axil_width}: the CSR bus is 32 bits")
        if self.data_width not in DATA_WIDTHS:
            found.append(f"data_width={self.data_width} must be one of {DATA_WIDTHS}")
        elif self.data_width > 8 * self.array:
            # An activation word is M bytes and moves as whole beats.
            found.append(
                f"data_width={self.data_width}: an M={self.array} activation vector is "
                f"{8 * self.array} bits, less than one beat"
            )
        return found

    def as_dict(self) -> dict[str, int | str]:
        """As report.json and the testbenches carry it: plain JSON values."""
        return {k: (v.value if isinstance(v, RequantMode) else v) for k, v in vars(self).items()}

    @staticmethod
    def from_dict(fields: dict[str, Any]) -> NpuConfig:
        return NpuConfig(**{**fields, "requant": RequantMode(fields["requant"])})

    # -- the memories as the core sees them: two banks, the second above the first ----------

    @property
    def weight_words(self) -> int:
        return BANKS * self.weight_depth

    @property
    def param_words(self) -> int:
        return BANKS * self.param_depth

    @property
    def out_words(self) -> int:
        return BANKS * self.out_depth

    @property
    def max_reduction(self) -> int:
        """The longest reduction a command can have: its weight blocks fit the memory."""
        return self.weight_words * self.array

    @property
    def accumulation_bits(self) -> int:
        """Bits that a sum of max_reduction signed products needs."""
        return self._sum_bits(self.max_reduction)

    @property
    def sum_width(self) -> int:
        """Bits of the array's accumulators: a command the checks let run reduces at most
        weight_words steps of M products (its weight blocks fit the memory), so its sums never
        reach the acc_width wrap and a narrower register holds them exactly."""
        return min(self.acc_width, self._sum_bits(self.weight_words * self.array))

    def _sum_bits(self, products: int) -> int:
        """Bits that a sum of this many signed operand_width x operand_width products needs."""
        return 2 * self.operand_width + math.ceil(math.log2(max(products, 1))) + 1

    @property
    def product_width(self) -> int:
        """Bits of the products CommandSetup derives for a command. The activation addresses
        of both banks are walked modulo 2^width, and a size of 2^width or more is above every
        depth, so it runs past any memory whatever its low bits."""
        deepest = max(2 * self.act_depth - 1, self.weight_words, self.out_words, self.param_words)
        return int(bits_for(deepest))

    @property
    def row_cycles(self) -> int:
        """Cycles the requant unit takes over one row of M sums."""
        return self.array * self.requant_interval // self.requant_lanes

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.array * self.array

    @property
    def beat_bytes(self) -> int:
        return self.data_width // 8

    @property
    def vector_bytes(self) -> int:
        """An activation or output word: one channel block of one pixel."""
        return self.array

    @property
    def block_bytes(self) -> int:
        """A weight word: one M x M block."""
        return self.array * self.array

    def buffer_bytes(self) -> dict[str, int]:
        """Bytes of each local buffer, both banks (parameters and commands as stored)."""
        from hwgen.npu.core import param_layout  # its layout is the RTL's

        param_bits = param_layout(self).size
        return {
            "activations": BANKS * self.act_depth * self.vector_bytes,
            "weights": BANKS * self.weight_depth * self.block_bytes,
            "parameters": BANKS * self.param_depth * -(-param_bits // 8),
            "outputs": BANKS * self.out_depth * self.vector_bytes,
            "commands": self.cmd_depth * 32,
        }
