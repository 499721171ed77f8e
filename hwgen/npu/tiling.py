"""A layer on the NPU in tiles: which tiles, and the program that runs them.

A tile is a block of output rows x output columns x output-channel blocks. Its input is the
rows and columns its taps reach (the halo: kernel, stride, padding, dilation), every input
channel; its weights and parameters are those of its channel blocks. Tiles run in one of two
orders: weights outer (each block of output channels loaded once, the activations of every
spatial tile streamed past it) or activations outer (each spatial tile loaded once, the weights
of every channel block streamed past it). Every buffer has two banks: the loads of tile k + 1
and the store of tile k - 1 run while tile k computes (the program orders them so, and the
sequencer starts each as soon as its banks are free).

Tensors in system memory are NHWC with channels padded to blocks of M (hwgen's "NPU layout");
a layer's weights are its M x M blocks in order (output block, ky, kx, input block), its
parameters one word per output channel (hwgen.npu.program).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from hwgen.npu.commands import Buffer, Command, Compute, Load, Pattern, Store
from hwgen.npu.config import NpuConfig
from hwgen.sim_models.npu_program import word_bytes


class Order(enum.Enum):
    WEIGHTS_OUTER = "weights-outer"
    ACTS_OUTER = "activations-outer"


@dataclass(frozen=True)
class LayerShape:
    """A convolution (or GEMM, as a 1x1 convolution of a rows x 1 image) as the NPU runs it."""

    in_h: int
    in_w: int
    cin_blocks: int
    out_h: int
    out_w: int
    cout_blocks: int
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    pad: tuple[int, int] = (0, 0)  # top, left (the bottom and right follow from the sizes)
    dilation: tuple[int, int] = (1, 1)
    pad_value: int = 0

    @property
    def reduction_blocks(self) -> int:
        return self.kernel[0] * self.kernel[1] * self.cin_blocks

    def reach(self, axis: int, first: int, count: int) -> tuple[int, int, int]:
        """Input rows (axis 0) or columns (1) that outputs [first, first + count) read:
        (first input, how many, padding before them in the tile)."""
        size = (self.in_h, self.in_w)[axis]
        k, s, p, d = self.kernel[axis], self.stride[axis], self.pad[axis], self.dilation[axis]
        lo = first * s - p
        hi = (first + count - 1) * s - p + d * (k - 1) + 1
        start, stop = max(lo, 0), min(hi, size)
        return start, max(stop - start, 0), start - lo

    def span(self, axis: int, count: int) -> int:
        """The most input rows or columns a tile of `count` outputs reads."""
        size = (self.in_h, self.in_w)[axis]
        k, s, d = self.kernel[axis], self.stride[axis], self.dilation[axis]
        return min((count - 1) * s + d * (k - 1) + 1, size)


@dataclass(frozen=True)
class Tiling:
    rows: int  # output rows per tile
    cols: int  # output columns per tile
    couts: int  # output channel blocks per tile
    order: Order

    def describe(self) -> str:
        return f"{self.rows}x{self.cols} pixels x {self.couts} channel blocks, {self.order.value}"


@dataclass(frozen=True)
class Placement:
    """Where a layer's data lies in system memory (byte addresses)."""

    inputs: int = 0
    outputs: int = 0
    weights: int = 0
    params: int = 0
    flip: bool = False  # uint8 activations: enter the array as x - 128


def fits(shape: LayerShape, tiling: Tiling, config: NpuConfig) -> bool:
    """Whether every tile's input, weights, parameters and output fit one bank each."""
    act = shape.span(0, tiling.rows) * shape.span(1, tiling.cols) * shape.cin_blocks
    return (
        act <= config.act_depth
        and tiling.couts * shape.reduction_blocks <= config.weight_depth
        and tiling.couts * config.array <= config.param_depth
        and tiling.rows * tiling.cols * tiling.couts <= config.out_depth
    )


def _ranges(total: int, step: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, step):
        yield first, min(step, total - first)


@dataclass(frozen=True)
class _Tile:
    rows: tuple[int, int]
    cols: tuple[int, int]
    couts: tuple[int, int]


def tiles(shape: LayerShape, tiling: Tiling) -> list[_Tile]:
    spatial = [
        (r, c) for r in _ranges(shape.out_h, tiling.rows) for c in _ranges(shape.out_w, tiling.cols)
    ]
    channels = list(_ranges(shape.cout_blocks, tiling.couts))
    if tiling.order is Order.WEIGHTS_OUTER:
        return [_Tile(r, c, j) for j in channels for r, c in spatial]
    return [_Tile(r, c, j) for r, c in spatial for j in channels]


class _Banks:
    """Which bank each buffer's next load goes to: they alternate."""

    def __init__(self) -> None:
        self.next = dict.fromkeys(("act", "weight", "param", "out"), 0)

    def take(self, buffer: str) -> int:
        bank = self.next[buffer]
        self.next[buffer] ^= 1
        return bank


def program(
    shape: LayerShape, tiling: Tiling, config: NpuConfig, at: Placement = Placement()
) -> list[Command]:
    """The layer's commands, in the order that overlaps each tile's loads and the previous
    tile's store with the computation (loads(0), compute(0), loads(1), store(0), compute(1),
    ...)."""
    m = config.array
    bb = config.beat_bytes
    vector = m  # bytes of an activation or output word
    in_row = shape.in_w * shape.cin_blocks * vector  # bytes of one input row
    out_pixel = shape.cout_blocks * vector
    block = word_bytes(config, Buffer.WEIGHT)
    param = word_bytes(config, Buffer.PARAM)
    kb = shape.reduction_blocks
    banks = _Banks()
    loaded: dict[str, tuple[object, int]] = {}  # what each buffer's current bank holds
    steps: list[tuple[list[Command], Compute, Store]] = []
    for tile in tiles(shape, tiling):
        (r0, rows), (c0, cols), (j0, couts) = tile.rows, tile.cols, tile.couts
        ih0, in_h, pad_top = shape.reach(0, r0, rows)
        iw0, in_w, pad_left = shape.reach(1, c0, cols)
        loads: list[Command] = []
        act_key = (ih0, in_h, iw0, in_w)
        if loaded.get("act", (None, 0))[0] != act_key:
            bank = banks.take("act")
            chunk = in_w * shape.cin_blocks * vector
            loads.append(
                Load(
                    Buffer.ACT,
                    bank,
                    0,
                    at.inputs + (ih0 * shape.in_w + iw0) * shape.cin_blocks * vector,
                    Pattern(chunk // bb, n1=in_h, stride1=in_row),
                    flip=at.flip,
                )
            )
            loaded["act"] = (act_key, bank)
        if loaded.get("weight", (None, 0))[0] != j0:
            wbank = banks.take("weight")
            loads.append(
                Load(
                    Buffer.WEIGHT,
                    wbank,
                    0,
                    at.weights + j0 * kb * block,
                    Pattern(kb * block // bb, n1=couts, stride1=kb * block),
                )
            )
            loaded["weight"] = (j0, wbank)
            pbank = banks.take("param")
            loads.append(
                Load(
                    Buffer.PARAM,
                    pbank,
                    0,
                    at.params + j0 * m * param,
                    Pattern(couts * m * param // bb),
                )
            )
            loaded["param"] = (j0, pbank)
        abank, wbank, pbank = (loaded[k][1] for k in ("act", "weight", "param"))
        obank = banks.take("out")
        conv = {
            "in_h": in_h,
            "in_w": in_w,
            "cin_blocks": shape.cin_blocks,
            "out_h": rows,
            "out_w": cols,
            "cout_blocks": couts,
            "kernel_h": shape.kernel[0],
            "kernel_w": shape.kernel[1],
            "stride_h": shape.stride[0],
            "stride_w": shape.stride[1],
            "pad_top": pad_top,
            "pad_left": pad_left,
            "dilation_h": shape.dilation[0],
            "dilation_w": shape.dilation[1],
            "act_bank": abank,
            "act_base": 0,
            "weight_base": wbank * config.weight_depth,
            "param_base": pbank * config.param_depth,
            "out_base": obank * config.out_depth,
            "pad_value": shape.pad_value,
        }
        compute = Compute(conv, wbank, pbank, obank)
        store = Store(
            obank,
            0,
            at.outputs + ((r0 * shape.out_w + c0) * shape.cout_blocks + j0) * vector,
            Pattern(
                couts * vector // bb,
                n0=cols,
                n1=rows,
                stride0=out_pixel,
                stride1=shape.out_w * out_pixel,
            )
            if couts != shape.cout_blocks
            else Pattern(cols * out_pixel // bb, n1=rows, stride1=shape.out_w * out_pixel),
        )
        steps.append((loads, compute, store))
    commands: list[Command] = []
    for k, (loads, compute, _) in enumerate(steps):
        commands += loads
        if k:
            commands.append(steps[k - 1][2])
        commands.append(compute)
    commands.append(steps[-1][2])
    return commands
