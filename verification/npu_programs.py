"""Random layers as the NPU runs them: system memory laid out with a layer's program, weights,
parameters and input, and what the models say running it gives (system memory after, cycles).
Shared by the NPU's testbenches (the DPI memory, cycle-exact; cocotbext-axi's RAM, under
backpressure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hwgen.npu.commands import Buffer, Command, encode_program
from hwgen.npu.config import NpuConfig
from hwgen.npu.tiling import LayerShape, Order, Placement, Tiling, fits, program
from hwgen.sim_models.npu import NpuMemories
from hwgen.sim_models.npu_program import Outcome, run_program, word_bytes
from hwgen.sim_models.npu_timing import ProgramTiming, program_timing
from verification.npu_data import param_word, random_memories

ALIGN = 64


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass
class LayerCase:
    shape: LayerShape
    tiling: Tiling
    commands: list[Command]
    program_addr: int
    sysmem: np.ndarray  # before the program runs
    output: tuple[int, int]  # where the layer's output lies: address, bytes


def random_shape(config: NpuConfig, rng: np.random.Generator) -> LayerShape:
    while True:
        k = int(rng.choice([1, 3]))
        s = int(rng.integers(1, 3))
        d = int(rng.integers(1, 3)) if k > 1 else 1
        h, w = int(rng.integers(2, 10)), int(rng.integers(2, 10))
        pad = (d * (k - 1)) // 2
        oh = (h + 2 * pad - d * (k - 1) - 1) // s + 1
        ow = (w + 2 * pad - d * (k - 1) - 1) // s + 1
        if oh < 1 or ow < 1:
            continue
        shape = LayerShape(
            h,
            w,
            int(rng.integers(1, 4)),
            oh,
            ow,
            int(rng.integers(1, 5)),
            (k, k),
            (s, s),
            (pad, pad),
            (d, d),
            int(rng.integers(-128, 128)),
        )
        if shape.reduction_blocks <= config.weight_depth:
            return shape


def random_tiling(shape: LayerShape, config: NpuConfig, rng: np.random.Generator) -> Tiling:
    for _ in range(1000):
        tiling = Tiling(
            int(rng.integers(1, shape.out_h + 1)),
            int(rng.choice([shape.out_w, int(rng.integers(1, shape.out_w + 1))])),
            int(rng.integers(1, shape.cout_blocks + 1)),
            Order.WEIGHTS_OUTER if rng.random() < 0.5 else Order.ACTS_OUTER,
        )
        if fits(shape, tiling, config):
            return tiling
    return Tiling(1, 1, 1, Order.WEIGHTS_OUTER)


def layer_case(
    config: NpuConfig, rng: np.random.Generator, shape: LayerShape | None = None
) -> LayerCase:
    shape = shape or random_shape(config, rng)
    tiling = random_tiling(shape, config, rng)
    m = config.array
    weights = rng.integers(-128, 128, size=shape.cout_blocks * shape.reduction_blocks * m * m)
    mem = random_memories(replace(config, param_depth=max(config.param_depth, 8 * m)), rng)
    param_bytes = word_bytes(config, Buffer.PARAM)
    params = b"".join(
        param_word(config, mem, ch).to_bytes(param_bytes, "little")
        for ch in range(shape.cout_blocks * m)
    )
    inputs = rng.integers(0, 256, size=shape.in_h * shape.in_w * shape.cin_blocks * m)
    output_bytes = shape.out_h * shape.out_w * shape.cout_blocks * m
    flip = bool(rng.integers(0, 2))
    # Layout: program, weights, parameters, input, output.
    commands_guess = program(shape, tiling, config)
    at = Placement()
    cursor = _align(len(commands_guess) * 32)
    at = replace(at, weights=cursor)
    cursor = _align(cursor + weights.size)
    at = replace(at, params=cursor)
    cursor = _align(cursor + len(params))
    at = replace(at, inputs=cursor, flip=flip)
    cursor = _align(cursor + inputs.size)
    at = replace(at, outputs=cursor)
    size = _align(cursor + output_bytes) + ALIGN
    commands = program(shape, tiling, config, at)
    sysmem = np.zeros(size, np.uint8)
    sysmem[: len(commands) * 32] = np.frombuffer(encode_program(commands), np.uint8)
    sysmem[at.weights : at.weights + weights.size] = weights.astype(np.int8).view(np.uint8)
    sysmem[at.params : at.params + len(params)] = np.frombuffer(params, np.uint8)
    sysmem[at.inputs : at.inputs + inputs.size] = inputs
    return LayerCase(shape, tiling, commands, 0, sysmem, (at.outputs, output_bytes))


def expected(case: LayerCase, config: NpuConfig) -> tuple[np.ndarray, Outcome, ProgramTiming]:
    """System memory after the program (the functional model), its outcome and its cycles."""
    sysmem = case.sysmem.copy()
    outcome = run_program(NpuMemories.empty(config), config, sysmem, case.commands)
    return sysmem, outcome, program_timing(case.commands, config)
