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

from dataclasses import dataclass, field, fields

import numpy as np
import numpy.typing as npt

from sim_models.quant import wrap_int32
from sim_models.requant import requant_ort, requant_shift

ORT_FIELDS = ("mantissa", "exponent", "zero_point", "lower", "upper")
SHIFT_FIELDS = ("mul", "add", "shift", "lower", "upper")

# Pipeline depths of the RTL, used by the cycle model.
MAC_LATENCY = 5  # operands, products, adder trees (two stages), accumulators
FETCH_LATENCY = 3  # address generator register, memory read, operand registers


def requant_latency(mode: str, interval: int = 1) -> int:
    """Stages of the requant unit: its wide product takes four, or R + 3 at an interval R
    above 1 (a narrower multiplier used over R cycles: operands, R digits' terms, their sums
    one stage behind them, and the running sum one stage behind those)."""
    product = 4 if interval == 1 else interval + 3
    return {"ort": 11, "shift": 3}[mode] + product


ISSUE_LATENCY = 3  # a channel's parameter read, the word registered, the bias added
# Deriving a command's products (hwgen.npu.command_setup: one serial multiplier), then the
# registered range check, before it runs; a refused command takes exactly this long.
SETUP_CYCLES = 159


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
    act: npt.NDArray[np.int8]  # (2, act_depth, M)
    weights: npt.NDArray[np.int8]  # (weight_depth, M, M): [block, input lane, output lane]
    bias: npt.NDArray[np.int64]  # (param_depth,)
    params: dict[str, npt.NDArray[np.int64]]  # requant fields, (param_depth,) each
    out: npt.NDArray[np.uint8]  # (out_depth, M) raw bytes
    mode: str = "ort"
    stats: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def empty(
        array: int, act_depth: int, weight_depth: int, param_depth: int, out_depth: int, mode: str
    ) -> NpuMemories:
        names = ORT_FIELDS if mode == "ort" else SHIFT_FIELDS
        return NpuMemories(
            array,
            np.zeros((2, act_depth, array), np.int8),
            np.zeros((weight_depth, array, array), np.int8),
            np.zeros(param_depth, np.int64),
            {name: np.zeros(param_depth, np.int64) for name in names},
            np.zeros((out_depth, array), np.uint8),
            mode,
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
        if mem.mode == "ort":
            y = requant_ort(
                total, p["mantissa"], p["exponent"], p["zero_point"], p["lower"], p["upper"]
            )
        else:
            y = requant_shift(total, p["mul"], p["add"], p["shift"], p["lower"], p["upper"])
        addresses = cmd.out_base + np.arange(pixels) * cmd.cout_blocks + j
        mem.out[addresses] = (y & 0xFF).astype(np.uint8)


def cycles(cmd: ConvCommand, array: int, mode: str, interval: int = 1) -> int:
    """Busy cycles of the command, start to done, as the RTL spends them.

    Steps issue one per cycle. A finished row of M sums is requantized one channel per slot of
    `interval` cycles; while that is busy the next row may finish, and a row finishing while
    the one before still waits stalls the array. The last row then drains through requant and
    the output write.
    """
    kb = cmd.reduction_blocks
    period = max(kb, array * interval)  # cycles between rows in steady state
    first_row_done = SETUP_CYCLES + 1 + FETCH_LATENCY + MAC_LATENCY + kb - 1
    last_row_done = first_row_done + (cmd.rows - 1) * period
    # The row's channels issue straight from the array's hand-off register, the first in
    # the cycle after the row is done and the last in the first cycle of the last slot; then
    # its parameters, the requant unit, the output write, done.
    last_issue = (array - 1) * interval
    drain = last_issue + ISSUE_LATENCY - 1 + requant_latency(mode, interval) + 2
    return last_row_done + drain
