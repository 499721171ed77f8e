"""QuantizeLinear and DequantizeLinear: the float <-> integer boundary."""

from __future__ import annotations

import numpy as np

from hwgen.frontend.context import LoweringContext
from hwgen.frontend.registry import lowers
from hwgen.ir import DType, NoAttrs, OpKind, QType
from hwgen.ir.types import Quant
from hwgen.sim_models.quant import dequantize_linear, quantize_linear

_QUANTIZED = (DType.INT8, DType.UINT8)


def _axis(ctx: LoweringContext, ndim: int) -> int:
    if ctx.attr("block_size", 0):
        raise ctx.unsupported("blocked quantization (block_size) is not supported")
    axis = int(ctx.attr("axis", 1))
    return axis + ndim if axis < 0 else axis


def _check_per_channel(ctx: LoweringContext, quant: Quant, shape: tuple[int, ...]) -> None:
    if quant.per_channel and (
        quant.axis is None
        or not 0 <= quant.axis < len(shape)
        or shape[quant.axis] != quant.scale.size
    ):
        raise ctx.unsupported(
            f"{quant.scale.size} scales do not match axis {quant.axis} of shape {list(shape)}"
        )


@lowers("QuantizeLinear")
def quantize(ctx: LoweringContext) -> None:
    zp = ctx.optional_const(2, "zero point")
    if zp is not None:
        dtype = DType.from_numpy(zp.dtype) if zp.dtype.name in ("int8", "uint8") else None
    else:
        out_type = int(ctx.attr("output_dtype", 0))
        dtype = {0: DType.UINT8, 2: DType.UINT8, 3: DType.INT8}.get(out_type)
    if dtype not in _QUANTIZED or dtype is None:
        raise ctx.unsupported("only int8 and uint8 quantization is supported")
    x = ctx.required(0, "x")
    if x in ctx.consts:
        value = ctx.consts[x].astype(np.float32)
        quant = ctx.quant_of(1, 2, dtype, _axis(ctx, value.ndim))
        _check_per_channel(ctx, quant, value.shape)
        ctx.fold_constant(
            quantize_linear(value, quant.scale, quant.zero_point, dtype.numpy, quant.axis)
        )
        return
    name, xtype = ctx.tensor(0, "x")
    if xtype.dtype is not DType.FLOAT32:
        raise ctx.unsupported(f"input must be float32, got {xtype.dtype.value}")
    quant = ctx.quant_of(1, 2, dtype, _axis(ctx, len(xtype.shape)))
    _check_per_channel(ctx, quant, xtype.shape)
    ctx.emit(OpKind.QUANTIZE, [name], NoAttrs(), [(ctx.output(), QType(dtype, xtype.shape, quant))])


@lowers("DequantizeLinear")
def dequantize(ctx: LoweringContext) -> None:
    x = ctx.required(0, "x")
    if x in ctx.consts:
        value = ctx.consts[x]
        dtype = DType.from_numpy(value.dtype)
        quant = ctx.quant_of(1, 2, dtype, _axis(ctx, value.ndim))
        _check_per_channel(ctx, quant, value.shape)
        ctx.fold_constant(dequantize_linear(value, quant.scale, quant.zero_point, quant.axis))
        return
    name, xtype = ctx.tensor(0, "x")
    if xtype.dtype not in _QUANTIZED:
        raise ctx.unsupported(f"input must be int8 or uint8, got {xtype.dtype.value}")
    quant = ctx.quant_of(1, 2, xtype.dtype, _axis(ctx, len(xtype.shape)))
    _check_per_channel(ctx, quant, xtype.shape)
    ctx.bind_quant(name, quant)
    ctx.emit(
        OpKind.DEQUANTIZE, [name], NoAttrs(), [(ctx.output(), QType(DType.FLOAT32, xtype.shape))]
    )
