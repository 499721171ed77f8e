"""Pooling: com.microsoft QLinearAveragePool / QLinearGlobalAveragePool and integer MaxPool."""

from __future__ import annotations

import numpy as np

from hwgen.frontend.context import LoweringContext
from hwgen.frontend.geometry import geometry_2d
from hwgen.frontend.registry import HWGEN_DOMAIN, MS_DOMAIN, lowers
from hwgen.ir import DType, GlobalPoolAttrs, NoAttrs, OpKind, PoolAttrs, QType
from hwgen.ir.types import Quant
from hwgen.sim_models.pool import MAX_GLOBAL_POOL_SCALE, MIN_GLOBAL_POOL_SCALE, global_avgpool_scale

_QUANTIZED = (DType.INT8, DType.UINT8)


def _nchw_input(ctx: LoweringContext) -> tuple[str, QType]:
    name, xt = ctx.tensor(0, "X")
    if xt.dtype not in _QUANTIZED:
        raise ctx.unsupported(f"input must be int8 or uint8, got {xt.dtype.value}")
    if len(xt.shape) != 4:
        raise ctx.unsupported(
            f"only 2-D pooling of NCHW tensors is supported, got {list(xt.shape)}"
        )
    return name, xt


def _pooled_shape(ctx: LoweringContext, xt: QType) -> tuple[PoolAttrs, tuple[int, ...]]:
    kernel = tuple(ctx.attr("kernel_shape", []))
    geom = geometry_2d(ctx, (xt.shape[2], xt.shape[3]), kernel, pooling=True)
    attrs = PoolAttrs(geom, bool(ctx.attr("count_include_pad", 0)))
    return attrs, (xt.shape[0], xt.shape[1], *geom.output_size(xt.shape[2], xt.shape[3]))


@lowers("QLinearAveragePool", MS_DOMAIN)
def qlinear_avgpool(ctx: LoweringContext) -> None:
    x, xt = _nchw_input(ctx)
    if ctx.attr("channels_last", 0):
        raise ctx.unsupported("channels_last QLinearAveragePool is not supported")
    ctx.bind_quant(x, ctx.quant_of(1, 2, xt.dtype))
    yq = ctx.quant_of(3, 4, xt.dtype)
    attrs, shape = _pooled_shape(ctx, xt)
    ctx.emit(OpKind.AVGPOOL, [x], attrs, [(ctx.output(), QType(xt.dtype, shape, yq))])


def _global_pool_quant(ctx: LoweringContext, x: str, xt: QType, count: int) -> Quant:
    """The output quantization of a mean over `count` elements, within the range of scales
    onnxruntime's integer kernel takes."""
    xq = ctx.quant_of(1, 2, xt.dtype)
    ctx.bind_quant(x, xq)
    yq = ctx.quant_of(3, 4, xt.dtype)
    scale = global_avgpool_scale(float(xq.scale[0]), float(yq.scale[0]), count)
    if not MIN_GLOBAL_POOL_SCALE <= scale < MAX_GLOBAL_POOL_SCALE:
        raise ctx.unsupported(
            f"x_scale / (y_scale * {count}) = {scale:.3g} lies outside [2^-32, 256), the range "
            "onnxruntime computes this op in"
        )
    return yq


@lowers("QLinearReduceMean", HWGEN_DOMAIN)
def qlinear_reduce_mean(ctx: LoweringContext) -> None:
    """A ReduceMean over H and W that onnxruntime runs in float between a DequantizeLinear and
    a QuantizeLinear (x.mean([2, 3]) in MnasNet, ShuffleNet): the integer global average pool,
    within an LSB of onnxruntime's float mean."""
    x, xt = _nchw_input(ctx)
    axes = sorted(int(a) % 4 for a in ctx.attr("axes", [0, 1, 2, 3]))
    if axes != [2, 3]:
        raise ctx.unsupported(f"ReduceMean over axes {axes}: hwgen averages over H and W only")
    yq = _global_pool_quant(ctx, x, xt, xt.shape[2] * xt.shape[3])
    n, c = xt.shape[:2]
    keep = bool(ctx.attr("keepdims", 1))
    pooled = ctx.output() if keep else f"{ctx.output()}.pooled"
    ctx.emit(
        OpKind.GLOBAL_AVGPOOL,
        [x],
        GlobalPoolAttrs(False),
        [(pooled, QType(xt.dtype, (n, c, 1, 1), yq))],
    )
    if not keep:
        flat = ctx.emit(
            OpKind.RESHAPE, [pooled], NoAttrs(), [(ctx.output(), QType(xt.dtype, (n, c), yq))]
        )
        flat.name = f"{ctx.node.name}.flatten"


@lowers("QLinearGlobalAveragePool", MS_DOMAIN)
def qlinear_global_avgpool(ctx: LoweringContext) -> None:
    x, xt = ctx.tensor(0, "X")
    if xt.dtype not in _QUANTIZED or len(xt.shape) < 3:
        raise ctx.unsupported(
            f"input must be an int8/uint8 tensor with spatial dims, got {xt.describe()}"
        )
    channels_last = bool(ctx.attr("channels_last", 0))
    spatial = xt.shape[1:-1] if channels_last else xt.shape[2:]
    yq = _global_pool_quant(ctx, x, xt, int(np.prod(spatial)))
    if channels_last:
        shape = (xt.shape[0], *([1] * (len(xt.shape) - 2)), xt.shape[-1])
    else:
        shape = (xt.shape[0], xt.shape[1], *([1] * (len(xt.shape) - 2)))
    ctx.emit(
        OpKind.GLOBAL_AVGPOOL,
        [x],
        GlobalPoolAttrs(channels_last),
        [(ctx.output(), QType(xt.dtype, shape, yq))],
    )


@lowers("MaxPool")
def maxpool(ctx: LoweringContext) -> None:
    x, xt = _nchw_input(ctx)
    if len(ctx.node.output) > 1 and ctx.node.output[1]:
        raise ctx.unsupported("the Indices output of MaxPool is not supported")
    attrs, shape = _pooled_shape(ctx, xt)
    ctx.emit(OpKind.MAXPOOL, [x], attrs, [(ctx.output(), xt.with_shape(shape))])
