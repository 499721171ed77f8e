"""System memory as the NPU sees it, from bus address 0: the image (every NPU layer's weights,
parameters and programs, written once by the host C at start) and then the L2 arena of the
memory plan. Each layer's programs are its tiling's commands (hwgen.npu.tiling) with the
addresses of its data, at most a command memory's worth each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwgen.npu.commands import Buffer, encode_program
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import param_layout
from hwgen.npu.program import ConvLayer, channel_parameters, weight_blocks
from hwgen.npu.tile_search import split
from hwgen.npu.tiling import Placement, program
from hwgen.npu.words import pack
from hwgen.passes.memory_plan import MemoryPlan
from hwgen.passes.npu_plan import NpuPlan
from hwgen.passes.storage import Storage
from hwgen.sim_models.npu_program import word_bytes

NAME = "place_npu_image"
ALIGN = 64  # bytes: a cache line, and a whole number of beats of any bus hwgen makes


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass(frozen=True)
class Program:
    address: int
    commands: int


@dataclass
class LayerImage:
    node: str
    weights: int  # byte address
    params: int
    programs: list[Program] = field(default_factory=list)


@dataclass
class NpuImage:
    data: bytes
    l2_base: int  # where the L2 arena starts in system memory
    layers: dict[str, LayerImage] = field(default_factory=dict)

    @property
    def program_bytes(self) -> int:
        return sum(32 * p.commands for layer in self.layers.values() for p in layer.programs)


def weight_bytes(layer: ConvLayer, config: NpuConfig) -> bytes:
    """The layer's M x M weight blocks as its LOADs read them."""
    return weight_blocks(layer, config.array).astype(np.int8).tobytes()


def param_bytes(layer: ConvLayer, config: NpuConfig) -> bytes:
    """One parameter word per output channel (padded to blocks of M), whole beats each."""
    layout = param_layout(config)
    size = word_bytes(config, Buffer.PARAM)
    bias, fields = channel_parameters(layer, config.array)
    return b"".join(
        pack(
            layout,
            {"bias": int(bias[ch]), "params": {k: int(v[ch]) for k, v in fields.items()}},
        ).to_bytes(size, "little")
        for ch in range(bias.size)
    )


def apply(
    npu: NpuPlan,
    memory: MemoryPlan,
    storage: dict[str, Storage],
    inputs: dict[str, tuple[str, str]],
) -> NpuImage:
    """`inputs`: each NPU layer's input and output tensor."""
    config = npu.config
    chunks: list[bytes] = []
    cursor = 0
    layers: dict[str, LayerImage] = {}

    def place(data: bytes) -> int:
        nonlocal cursor
        address = cursor
        chunks.append(data.ljust(_aligned(len(data)), b"\0"))
        cursor += _aligned(len(data))
        return address

    for plan in npu.layers:
        layers[plan.node] = LayerImage(
            plan.node,
            place(weight_bytes(plan.layer, config)),
            place(param_bytes(plan.layer, config)),
        )
    # The programs' lengths do not depend on the addresses in them: the L2 arena's place is
    # known once they are counted.
    lengths = {
        plan.node: [
            len(p) for p in split(program(plan.shape, plan.tiling, config), config.cmd_depth)
        ]
        for plan in npu.layers
    }
    l2_base = cursor + sum(_aligned(32 * n) for counts in lengths.values() for n in counts)
    for plan in npu.layers:
        image = layers[plan.node]
        source, target = inputs[plan.node]
        source_view, target_view = storage[source].npu, storage[target].npu
        assert source_view is not None and target_view is not None
        at = Placement(
            inputs=l2_base + memory.offset(source_view.buffer),
            outputs=l2_base + memory.offset(target_view.buffer),
            weights=image.weights,
            params=image.params,
            flip=plan.layer.flip_sign,
        )
        commands = program(plan.shape, plan.tiling, config, at)
        for part in split(commands, config.cmd_depth):
            image.programs.append(Program(place(encode_program(part)), len(part)))
    assert cursor <= l2_base
    return NpuImage(b"".join(chunks).ljust(l2_base, b"\0"), l2_base, layers)
