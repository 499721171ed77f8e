"""One NPU layer run alone on the functional model: its program for a tiling, its image and
its input in system memory in the NPU's layout."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hwgen.npu.config import NpuConfig
from hwgen.npu.errors import NpuError
from hwgen.npu.program import ConvLayer
from hwgen.npu.tile_search import split
from hwgen.npu.tiling import Placement, Tiling, program
from hwgen.passes.npu_image import param_bytes, weight_bytes
from hwgen.passes.npu_plan import layer_shape
from hwgen.sim_models.npu import NpuMemories
from hwgen.sim_models.npu_program import run_program
from hwgen.sim_models.npu_timing import program_timing


def run_layer(
    config: NpuConfig,
    x: np.ndarray,
    layer: ConvLayer,
    tiling: Tiling,
    out_dtype: type[np.generic] = np.int8,
) -> tuple[np.ndarray, int]:
    """The layer's program for `tiling` on the functional model, its input in system memory in
    the NPU's layout: the output tensor and the cycle model's count."""
    m = config.array
    _, c, h, w = x.shape
    shape = layer_shape(layer, (h, w), m)
    weights, params = weight_bytes(layer, config), param_bytes(layer, config)
    cp, op = shape.cin_blocks * m, shape.cout_blocks * m
    at = Placement(weights=64, params=64 + len(weights))
    inputs = -(-(at.params + len(params)) // 64) * 64
    outputs = inputs + h * w * cp
    at = replace(at, inputs=inputs, outputs=outputs)
    sysmem = np.zeros(outputs + shape.out_h * shape.out_w * op + 64, np.uint8)
    sysmem[at.weights : at.weights + len(weights)] = np.frombuffer(weights, np.uint8)
    sysmem[at.params : at.params + len(params)] = np.frombuffer(params, np.uint8)
    nhwc = np.zeros((h, w, cp), np.uint8)
    nhwc[:, :, :c] = x[0].transpose(1, 2, 0).view(np.uint8)
    sysmem[inputs : inputs + nhwc.size] = nhwc.reshape(-1)
    commands = program(shape, tiling, config, at)
    mem = NpuMemories.empty(config)
    busy = 0
    for part in split(commands, config.cmd_depth):  # the buffers stay between programs
        outcome = run_program(mem, config, sysmem, part)
        assert outcome.error is NpuError.NONE, outcome
        busy += program_timing(part, config).busy
    out = sysmem[outputs : outputs + shape.out_h * shape.out_w * op]
    out = out.reshape(shape.out_h, shape.out_w, op)[:, :, : layer.out_channels].view(out_dtype)
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None]), program_timing(commands, config).busy
