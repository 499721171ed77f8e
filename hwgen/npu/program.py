"""Mapping a quantized convolution (or GEMM) onto the NPU's memories and one command.

The array multiplies stored int8 activations by int8 weights, so the activation zero point is
folded into the bias: sum (x - xzp) w = sum x w - xzp sum w. Padded taps then feed xzp itself
(the command's pad_value), which the folded bias cancels exactly, as the golden model's
zero-point padding does. Channels are padded to blocks of M with zero weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hwgen.errors import HwgenError
from hwgen.npu.config import NpuConfig, RequantMode
from sim_models.linear import Conv2dGeometry
from sim_models.npu import ConvCommand, NpuMemories
from sim_models.quant import wrap_int32
from sim_models.requant import split_float32


@dataclass(frozen=True)
class ConvLayer:
    """An int8 convolution with onnxruntime's requantization (QLinearConv), batch 1."""

    weights: npt.NDArray[np.int8]  # O, C, KH, KW
    bias: npt.NDArray[np.int32]  # O
    x_zero_point: int
    multiplier: npt.NDArray[np.float32]  # O (or 1)
    y_zero_point: int
    geometry: Conv2dGeometry
    y_signed: bool = True


@dataclass
class ConvProgram:
    memories: NpuMemories
    command: ConvCommand
    out_channels: int

    def output(self, out: npt.NDArray[np.uint8], signed: bool) -> npt.NDArray[np.generic]:
        """The output buffer back as a (1, O, OH, OW) tensor."""
        cmd = self.command
        m = self.memories.array
        pixels = cmd.out_h * cmd.out_w
        words = out[cmd.out_base : cmd.out_base + pixels * cmd.cout_blocks]
        nhwc = words.reshape(cmd.out_h, cmd.out_w, cmd.cout_blocks * m)[..., : self.out_channels]
        values = nhwc.view(np.int8) if signed else nhwc
        return np.ascontiguousarray(values.transpose(2, 0, 1)[None])


def conv_program(config: NpuConfig, x: npt.NDArray[np.int8], layer: ConvLayer) -> ConvProgram:
    if config.requant is not RequantMode.ORT:
        raise HwgenError("conv_program maps onnxruntime's requantization: NpuConfig.requant='ort'")
    if x.dtype != np.int8:
        raise HwgenError(f"the NPU takes int8 activations, got {x.dtype}")
    m = config.array
    o, c, kh, kw = layer.weights.shape
    _, cx, h, w = x.shape
    if cx != c:
        raise HwgenError(f"input has {cx} channels, weights expect {c}")
    geom = layer.geometry
    oh, ow = geom.output_size(h, w)
    cb, ob = -(-c // m), -(-o // m)
    mem = NpuMemories.empty(
        m, config.act_depth, config.weight_depth, config.param_depth, config.out_depth, "ort"
    )
    # Activations: NHWC, channels padded (their weights are zero, any value will do).
    nhwc = np.full((h, w, cb * m), layer.x_zero_point, np.int8)
    nhwc[:, :, :c] = x[0].transpose(1, 2, 0)
    mem.act[0, : h * w * cb] = nhwc.reshape(h * w * cb, m)
    # Weights: block (j, ky, kx, cblock) holds [input lane i][output lane l].
    padded = np.zeros((ob * m, cb * m, kh, kw), np.int8)
    padded[:o, :c] = layer.weights
    blocks = padded.reshape(ob, m, cb, m, kh, kw).transpose(0, 4, 5, 2, 3, 1)
    mem.weights[: ob * kh * kw * cb] = blocks.reshape(-1, m, m)
    # Parameters: bias with the activation zero point folded in, requant per channel.
    folded = layer.bias.astype(np.int64) - layer.x_zero_point * layer.weights.astype(np.int64).sum(
        axis=(1, 2, 3)
    )
    mem.bias[:o] = wrap_int32(folded)
    multipliers = np.broadcast_to(layer.multiplier.astype(np.float32), (o,))
    lo, hi = (-128, 127) if layer.y_signed else (0, 255)
    for ch in range(o):
        mantissa, exponent = split_float32(float(multipliers[ch]))
        mem.params["mantissa"][ch] = mantissa
        mem.params["exponent"][ch] = exponent
        mem.params["zero_point"][ch] = layer.y_zero_point
        mem.params["lower"][ch] = lo
        mem.params["upper"][ch] = hi
    cmd = ConvCommand(
        in_h=h,
        in_w=w,
        cin_blocks=cb,
        out_h=oh,
        out_w=ow,
        cout_blocks=ob,
        kernel_h=kh,
        kernel_w=kw,
        stride_h=geom.strides[0],
        stride_w=geom.strides[1],
        pad_top=geom.pads[0],
        pad_left=geom.pads[1],
        dilation_h=geom.dilations[0],
        dilation_w=geom.dilations[1],
        pad_value=layer.x_zero_point,
    )
    return ConvProgram(mem, cmd, o)
