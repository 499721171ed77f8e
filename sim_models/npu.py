"""Transaction-level model of the NPU: memory layouts, what a command computes, and how many
cycles it takes.

Memory layouts (shared by the RTL, this model and the host software):
- activation buffer (two banks): word = M int8 lanes, lane i at bits [8i, 8i+8). A tensor of
  H x W pixels and C channels is stored NHWC with C padded to blocks of M: the vector of
  pixel (h, w), channel block cb is at base + (h * W + w) * Cb + cb.
- weight memory: word = one M x M block, byte i * M + c holds W[k = kb * M + i][cout = j * M + c];
  the blocks of output block j are at weight_base + j * KB + kb, KB = kh * kw * Cb, in the
  order (ky, kx, cb).
- parameter memory: one word per output channel: int32 bias and the requant parameters.
- output buffer: word = M bytes, pixel p = oh * OW + ow, block j at out_base + p * Cob + j.

The array multiplies stored int8 activations by int8 weights; the activation zero point is
folded into the bias by the compiler (bias' = bias - xzp * sum_k w), so padded taps must feed
the zero point itself (`pad_value`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from hwgen.npu import command_setup, core
from hwgen.npu.config import BANKS, NpuConfig, RequantMode
from hwgen.npu.errors import NpuError
from hwgen.npu.mac_array import MacArray
from hwgen.npu.requant import ort_stages, shift_stages
from hwgen.sim_models.quant import wrap_int32
from hwgen.sim_models.requant import requant_ort, requant_shift

ORT_FIELDS = ("mantissa", "exponent", "zero_point", "lower", "upper")
SHIFT_FIELDS = ("mul", "add", "shift", "lower", "upper")


def requant_latency(config: NpuConfig) -> int:
    """Stages of the requant unit, as the RTL builds it for this configuration."""
    stages = ort_stages if config.requant is RequantMode.ORT else shift_stages
    return stages(config.requant_interval)


def setup_cycles(config: NpuConfig) -> int:
    """Deriving a command's products (hwgen.npu.command_setup), then the registered range
    check, before it runs; a refused command takes exactly this long."""
    return command_setup.setup_cycles(config) + core.CHECK_LATENCY


@dataclass(frozen=True)
class ConvCommand:
    """A GEMM or 2-D convolution over the NPU's memories (GEMM: H = rows, W = 1, 1x1 kernel)."""

    in_h: int
    in_w: int
    cin_blocks: int
    out_h: int
    out_w: int
    cout_blocks: int
    kernel_h: int = 1
    kernel_w: int = 1
    stride_h: int = 1
    stride_w: int = 1
    pad_top: int = 0
    pad_left: int = 0
    dilation_h: int = 1
    dilation_w: int = 1
    act_bank: int = 0
    act_base: int = 0
    weight_base: int = 0
    param_base: int = 0
    out_base: int = 0
    pad_value: int = 0

    @staticmethod
    def gemm(rows: int, k_blocks: int, cout_blocks: int, **where: int) -> ConvCommand:
        return ConvCommand(rows, 1, k_blocks, rows, 1, cout_blocks, **where)

    @property
    def reduction_blocks(self) -> int:
        return self.kernel_h * self.kernel_w * self.cin_blocks

    @property
    def rows(self) -> int:
        return self.cout_blocks * self.out_h * self.out_w

    @property
    def steps(self) -> int:
        return self.rows * self.reduction_blocks

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


@dataclass
class NpuMemories:
    array: int
    # Two banks of each, the second above the first (but the activations', kept apart).
    act: npt.NDArray[np.int8]  # (2, act_depth, M)
    weights: npt.NDArray[np.int8]  # (weight_words, M, M): [block, input lane, output lane]
    bias: npt.NDArray[np.int64]  # (param_words,)
    params: dict[str, npt.NDArray[np.int64]]  # requant fields, (param_words,) each
    out: npt.NDArray[np.uint8]  # (out_words, M) raw bytes
    mode: RequantMode = RequantMode.ORT

    @staticmethod
    def empty(config: NpuConfig) -> NpuMemories:
        names = ORT_FIELDS if config.requant is RequantMode.ORT else SHIFT_FIELDS
        m = config.array
        return NpuMemories(
            m,
            np.zeros((BANKS, config.act_depth, m), np.int8),
            np.zeros((config.weight_words, m, m), np.int8),
            np.zeros(config.param_words, np.int64),
            {name: np.zeros(config.param_words, np.int64) for name in names},
            np.zeros((config.out_words, m), np.uint8),
            config.requant,
        )


def execute(mem: NpuMemories, cmd: ConvCommand) -> None:
    """What the command writes to the output buffer."""
    m = mem.array
    kb = cmd.reduction_blocks
    grid_y, grid_x = np.meshgrid(np.arange(cmd.out_h), np.arange(cmd.out_w), indexing="ij")
    oy, ox = grid_y.reshape(-1), grid_x.reshape(-1)
    pixels = oy.size
    # Gather the implicit im2col matrix: (pixels, KB, M) activation vectors.
    patches = np.empty((pixels, kb, m), dtype=np.int64)
    tap = 0
    for ky in range(cmd.kernel_h):
        for kx in range(cmd.kernel_w):
            ih = oy * cmd.stride_h - cmd.pad_top + ky * cmd.dilation_h
            iw = ox * cmd.stride_w - cmd.pad_left + kx * cmd.dilation_w
            inside = (ih >= 0) & (ih < cmd.in_h) & (iw >= 0) & (iw < cmd.in_w)
            for cb in range(cmd.cin_blocks):
                addr = cmd.act_base + (ih * cmd.in_w + iw) * cmd.cin_blocks + cb
                vectors = mem.act[cmd.act_bank][np.where(inside, addr, 0)].astype(np.int64)
                patches[:, tap] = np.where(inside[:, None], vectors, cmd.pad_value)
                tap += 1
    flat = patches.reshape(pixels, kb * m).astype(np.float64)
    for j in range(cmd.cout_blocks):
        blocks = mem.weights[cmd.weight_base + j * kb : cmd.weight_base + (j + 1) * kb]
        w = blocks.reshape(kb * m, m).astype(np.float64)
        acc = np.rint(flat @ w).astype(np.int64)  # exact: |sum| < 2^53
        channels = cmd.param_base + j * m + np.arange(m)
        total = wrap_int32(acc + mem.bias[channels]).astype(np.int64)
        p = {k: v[channels] for k, v in mem.params.items()}
        if mem.mode is RequantMode.ORT:
            y = requant_ort(
                total, p["mantissa"], p["exponent"], p["zero_point"], p["lower"], p["upper"]
            )
        else:
            y = requant_shift(total, p["mul"], p["add"], p["shift"], p["lower"], p["upper"])
        addresses = cmd.out_base + np.arange(pixels) * cmd.cout_blocks + j
        mem.out[addresses] = (y & 0xFF).astype(np.uint8)


def cycles(cmd: ConvCommand, config: NpuConfig) -> int:
    """Busy cycles of the command, start to done, as the RTL spends them.

    Steps issue one per cycle. A finished row of M sums is requantized `requant_lanes`
    channels per slot of `interval` cycles; while that is busy the next row may finish, and a
    row finishing while the one before still waits stalls the array. The last row then drains
    through requant and the output write.
    """
    interval = config.requant_interval
    kb = cmd.reduction_blocks
    period = max(kb, config.row_cycles)  # cycles between rows in steady state
    first_row_done = setup_cycles(config) + 1 + core.FETCH_LATENCY + MacArray.LATENCY + kb - 1
    last_row_done = first_row_done + (cmd.rows - 1) * period
    # The row's channels issue straight from the array's hand-off register, the first in
    # the cycle after the row is done and the last in the first cycle of the last slot; then
    # its parameters, the requant unit, the output write, done.
    last_issue = (config.row_cycles // interval - 1) * interval
    drain = last_issue + core.ISSUE_LATENCY - 1 + requant_latency(config) + 2
    return last_row_done + drain


def check(cmd: ConvCommand, config: NpuConfig) -> NpuError:
    """The first thing wrong with a command, as the core's checks find it at start
    (hwgen.npu.core.Core._check, in the same order)."""
    sizes = (
        cmd.in_h,
        cmd.in_w,
        cmd.cin_blocks,
        cmd.out_h,
        cmd.out_w,
        cmd.cout_blocks,
        cmd.kernel_h,
        cmd.kernel_w,
        cmd.stride_h,
        cmd.stride_w,
        cmd.dilation_h,
        cmd.dilation_w,
    )
    if 0 in sizes:
        return NpuError.ZERO_DIMENSION
    if cmd.act_base + cmd.in_h * cmd.in_w * cmd.cin_blocks > config.act_depth:
        return NpuError.ACT_RANGE
    if cmd.weight_base + cmd.cout_blocks * cmd.reduction_blocks > config.weight_words:
        return NpuError.WEIGHT_RANGE
    off_lane = cmd.param_base % config.requant_lanes
    if off_lane or cmd.param_base + cmd.cout_blocks * config.array > config.param_words:
        return NpuError.PARAM_RANGE
    if cmd.out_base + cmd.rows > config.out_words:
        return NpuError.OUT_RANGE
    return NpuError.NONE
