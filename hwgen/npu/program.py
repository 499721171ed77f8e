"""Mapping quantized convolutions (and matrix products, as 1x1 convolutions) onto the NPU's
memories and commands.

The array multiplies stored int8 activations by int8 weights, so the activation zero point is
folded into the bias: sum (x - xzp) w = sum x w - xzp sum w. Padded taps then feed xzp itself
(the command's pad_value), which the folded bias cancels exactly, as the golden model's
zero-point padding does. Channels are padded to blocks of M with zero weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hwgen.ir import ShiftRequantAttrs
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.sim_models.npu import ORT_FIELDS, SHIFT_FIELDS
from hwgen.sim_models.quant import wrap_int32
from hwgen.sim_models.requant import split_float32


@dataclass(frozen=True, eq=False)
class ConvLayer:
    """An int8 convolution with onnxruntime's requantization (QLinearConv), batch 1."""

    weights: npt.NDArray[np.int8]  # O, C, KH, KW
    bias: npt.NDArray[np.int32]  # O
    x_zero_point: int  # as the array sees it: the stored zero point, less 128 for uint8
    multiplier: npt.NDArray[np.float32]  # O (or 1)
    y_zero_point: int
    geometry: Conv2dGeometry
    lower: int = -128  # bounds of the stored output (dtype range, or a fused ReLU / clip)
    upper: int = 127
    # uint8 activations enter the array as x - 128 (the sign bit flipped), and the zero point
    # with them, so that the product (x - zp) * w is unchanged.
    flip_sign: bool = False
    # The integer dialects' rule instead of onnxruntime's (multiplier and zero point unused).
    shift: ShiftRequantAttrs | None = None

    @property
    def out_channels(self) -> int:
        return int(self.weights.shape[0])

    def blocks(self, m: int) -> tuple[int, int]:
        """(input channel blocks, output channel blocks)."""
        o, c = self.weights.shape[:2]
        return -(-c // m), -(-o // m)


def weight_blocks(layer: ConvLayer, m: int) -> npt.NDArray[np.int8]:
    """The layer's M x M blocks in the weight memory's order: output block, ky, kx, input
    block; each block [input lane][output lane]."""
    o, c, kh, kw = layer.weights.shape
    cb, ob = layer.blocks(m)
    padded = np.zeros((ob * m, cb * m, kh, kw), np.int8)
    padded[:o, :c] = layer.weights
    blocks = padded.reshape(ob, m, cb, m, kh, kw).transpose(0, 4, 5, 2, 3, 1)
    return np.ascontiguousarray(blocks.reshape(-1, m, m))


def channel_parameters(
    layer: ConvLayer, m: int
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.int64]]]:
    """Per output channel, padded to blocks of M: the folded bias and the ort requant fields."""
    _, ob = layer.blocks(m)
    o = layer.out_channels
    count = ob * m
    bias = np.zeros(count, np.int64)
    folded = layer.bias.astype(np.int64) - layer.x_zero_point * layer.weights.astype(np.int64).sum(
        axis=(1, 2, 3)
    )
    bias[:o] = wrap_int32(folded)
    if layer.shift is not None:
        rq = layer.shift
        shift_fields = {name: np.zeros(count, np.int64) for name in SHIFT_FIELDS}
        # Padded channels repeat channel 0's parameters: a valid word whose output is dropped.
        for name, values in (("mul", rq.mul), ("add", rq.add)):
            per_channel = np.broadcast_to(np.asarray(values).reshape(-1), (o,))
            shift_fields[name][:o] = per_channel
            shift_fields[name][o:] = per_channel[0]
        shift_fields["shift"][:] = rq.shift
        shift_fields["lower"][:] = rq.lower
        shift_fields["upper"][:] = rq.upper
        return bias, shift_fields
    fields = {name: np.zeros(count, np.int64) for name in ORT_FIELDS}
    multipliers = np.broadcast_to(layer.multiplier.astype(np.float32).reshape(-1), (o,))
    for ch in range(count):
        # Padded channels get channel 0's parameters: a valid word whose output is dropped.
        mantissa, exponent = split_float32(float(multipliers[min(ch, o - 1)]))
        fields["mantissa"][ch] = mantissa
        fields["exponent"][ch] = exponent
    fields["zero_point"][:] = layer.y_zero_point
    fields["lower"][:] = layer.lower
    fields["upper"][:] = layer.upper
    return bias, fields
