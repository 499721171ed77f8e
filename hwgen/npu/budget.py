"""The hardware budget an NPU is sized by: its array, its local buffers in KiB (both banks), its
command memory and its bus, from a board (boards/<name>/board.toml) or from flags, never from
the network. Within the budget the NPU stays specialised to its network: each buffer no larger
than the network's largest layer can use, the requant rule the network needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hwgen.npu.config import BANKS, NpuConfig, RequantMode
from hwgen.npu.tiling import LayerShape

KIB = 1024


@dataclass(frozen=True)
class Budget:
    """What the NPU may use, each buffer's both banks together."""

    array: int = 8
    act_kib: float = 64
    weight_kib: float = 128
    out_kib: float = 16
    param_kib: float = 4
    commands: int = 512
    data_width: int = 32
    # The datapath's DSP-hungry parts (NpuConfig): the requant unit's cycles per channel (above
    # 1 where logic is short), its lanes, and whether command setup goes without a multiplier.
    requant_interval: int = 1
    requant_lanes: int = 2
    serial_setup: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @staticmethod
    def from_dict(values: dict[str, Any]) -> Budget:
        return Budget(**values)

    def describe(self) -> str:
        return (
            f"M={self.array}, activations {self.act_kib:g} KiB, weights {self.weight_kib:g} KiB, "
            f"outputs {self.out_kib:g} KiB, parameters {self.param_kib:g} KiB, "
            f"{self.commands} commands, {self.data_width}-bit bus, "
            f"{self.requant_lanes} requant lane{'s' if self.requant_lanes > 1 else ''}"
            + (f" every {self.requant_interval} cycles" if self.requant_interval > 1 else "")
            + (", serial command setup" if self.serial_setup else "")
        )


# What each budget line buys: words per bank of NpuConfig's field, and the flag that sets it.
BUFFERS = {
    "act_depth": ("act_kib", "--act-kib"),
    "weight_depth": ("weight_kib", "--weight-kib"),
    "out_depth": ("out_kib", "--out-kib"),
    "param_depth": ("param_kib", "--param-kib"),
}


def word_bytes(config: NpuConfig, field: str) -> int:
    """Bytes one word of the buffer takes in the NPU (parameters as whole bytes)."""
    from hwgen.npu.core import param_layout  # the RTL's layout

    m = config.array
    sizes: dict[str, int] = {
        "act_depth": m,
        "weight_depth": m * m,
        "out_depth": m,
        "param_depth": -(-param_layout(config).size // 8),
    }
    return sizes[field]


def kib_for(config: NpuConfig, field: str, depth: int) -> float:
    """The budget (both banks, KiB) that gives `depth` words per bank."""
    return BANKS * depth * word_bytes(config, field) / KIB


def useful_depths(shapes: Sequence[LayerShape], array: int) -> dict[str, int]:
    """The most words per bank any layer could use: its whole input, weights, parameters or
    output in one tile."""
    return {
        "act_depth": max((s.in_h * s.in_w * s.cin_blocks for s in shapes), default=1),
        "weight_depth": max((s.cout_blocks * s.reduction_blocks for s in shapes), default=1),
        "out_depth": max((s.out_h * s.out_w * s.cout_blocks for s in shapes), default=1),
        "param_depth": max((s.cout_blocks * array for s in shapes), default=array),
    }


def config_for(budget: Budget, shapes: Sequence[LayerShape], requant: RequantMode) -> NpuConfig:
    """The NpuConfig of the budget for a network with these NPU layers: each buffer the
    budget's size, or less where no layer could use more."""
    lanes = min(budget.requant_lanes, budget.array) if budget.requant_interval == 1 else 1
    base = NpuConfig(
        array=budget.array,
        requant=requant,
        requant_interval=budget.requant_interval,
        requant_lanes=lanes,
        serial_setup=budget.serial_setup,
        data_width=budget.data_width,
        cmd_depth=budget.commands,
        param_depth=budget.array,
    )
    useful = useful_depths(shapes, budget.array)
    depths: dict[str, Any] = {}
    for field, (kib, _) in BUFFERS.items():
        afforded = int(getattr(budget, kib) * KIB) // (BANKS * word_bytes(base, field))
        depths[field] = max(1, min(afforded, useful[field]))
    # Whole channel blocks (a multiple of the requant lanes), one at least.
    depths["param_depth"] = max(depths["param_depth"] // budget.array, 1) * budget.array
    return replace(base, **depths)
