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
MAX_DEPTH = 1 << 15


@dataclass(frozen=True)
class NpuConfig:
    """Array size M, datapath widths, memory depths (in words), requant mode, bus widths."""

    array: int = 8
    operand_width: int = 8
    acc_width: int = 32
    max_reduction: int = 4096  # the largest K (conv: Cin * kh * kw) the NPU must accumulate
    weight_depth: int = 1024  # M x M weight blocks
    act_depth: int = 2048  # M-byte activation vectors, per buffer (there are two)
    out_depth: int = 2048  # M-byte output vectors
    param_depth: int = 256  # output channels with their own requant parameters
    requant: RequantMode = RequantMode.ORT
    # Cycles between channels entering the requant unit: 1 for a unit that takes one every
    # cycle; R > 1 for one with a multiplier R times narrower (a device short of logic).
    requant_interval: int = 1
    axil_width: int = 32
    data_width: int = 32

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
        if self.max_reduction < 1:
            found.append(f"max_reduction={self.max_reduction} must be at least 1")
        else:
            need = self.accumulation_bits
            if self.acc_width < need:
                found.append(
                    f"acc_width={self.acc_width} cannot hold a reduction of {self.max_reduction} "
                    f"{self.operand_width}-bit products (needs {need} bits)"
                )
        if self.requant is RequantMode.ORT and self.acc_width != 32:
            found.append(
                f"acc_width={self.acc_width}: ort requant reproduces onnxruntime's int32 "
                "accumulator and needs acc_width=32"
            )
        if self.acc_width > 32:
            found.append(f"acc_width={self.acc_width} is above 32, which the requant unit takes")
        for name, depth, least in (
            ("weight_depth", self.weight_depth, 2),
            ("act_depth", self.act_depth, max(1, -(-self.max_reduction // max(self.array, 1)))),
            ("out_depth", self.out_depth, 1),
            ("param_depth", self.param_depth, self.array),
        ):
            if depth < least:
                found.append(f"{name}={depth} is too small (at least {least})")
            elif depth > MAX_DEPTH:
                # The CSRs and CommandSetup's operands are 16-bit fields.
                found.append(f"{name}={depth} is too large (at most {MAX_DEPTH})")
        if self.requant_interval not in REQUANT_INTERVALS:
            found.append(
                f"requant_interval={self.requant_interval} must be one of {REQUANT_INTERVALS}"
            )
        if self.axil_width != 32:
            found.append(f"axil_width={self.axil_width}: the CSR bus is 32 bits")
        if self.data_width not in (32, 64):
            found.append(f"data_width={self.data_width} must be 32 or 64")
        return found

    def as_dict(self) -> dict[str, int | str]:
        """As report.json and the testbenches carry it: plain JSON values."""
        return {k: (v.value if isinstance(v, RequantMode) else v) for k, v in vars(self).items()}

    @staticmethod
    def from_dict(fields: dict[str, Any]) -> NpuConfig:
        return NpuConfig(**{**fields, "requant": RequantMode(fields["requant"])})

    @property
    def accumulation_bits(self) -> int:
        """Bits that a sum of max_reduction signed products needs."""
        return self._sum_bits(self.max_reduction)

    @property
    def sum_width(self) -> int:
        """Bits of the array's accumulators: a command the checks let run reduces at most
        weight_depth steps of M products (its weight blocks fit the memory), so its sums never
        reach the acc_width wrap and a narrower register holds them exactly."""
        return min(self.acc_width, self._sum_bits(self.weight_depth * self.array))

    def _sum_bits(self, products: int) -> int:
        """Bits that a sum of this many signed operand_width x operand_width products needs."""
        return 2 * self.operand_width + math.ceil(math.log2(max(products, 1))) + 1

    @property
    def product_width(self) -> int:
        """Bits of the products CommandSetup derives for a command. The activation addresses
        of both banks are walked modulo 2^width, and a size of 2^width or more is above every
        depth, so it runs past any memory whatever its low bits."""
        deepest = max(2 * self.act_depth - 1, self.weight_depth, self.out_depth, self.param_depth)
        return int(bits_for(deepest))

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.array * self.array
