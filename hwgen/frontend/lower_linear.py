"""Convolutions and matrix products: QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger,
com.microsoft QGemm. Each becomes an exact int32 product plus an output stage (Requant)."""

from __future__ import annotations

import numpy as np

from hwgen.errors import ModelError
from hwgen.frontend.context import LoweringContext
from hwgen.frontend.geometry import geometry_2d
from hwgen.frontend.registry import MS_DOMAIN, lowers
from hwgen.ir import ConvAttrs, DType, MatMulAttrs, OpKind, OutputMode, QType, Quant, Requant
from hwgen.sim_models.quant import requant_multiplier

_QUANTIZED = (DType.INT8, DType.UINT8)


def _zero_point(ctx: LoweringContext, index: int, what: str, size: int | None) -> np.ndarray:
    value = ctx.optional_const(index, what)
    if value is None:
        return np.zeros(1, np.int32)
    flat = value.reshape(-1).astype(np.int32)
    if flat.size != 1 and (size is None or flat.size != size):
        raise ctx.unsupported(f"{what} has {flat.size} values; expected 1 or {size}")
    return flat


def _operand(ctx: LoweringContext, index: int, what: str) -> tuple[str, QType]:
    name, qtype = ctx.tensor(index, what)
    if qtype.dtype not in _QUANTIZED:
        raise ctx.unsupported(f"{what} must be int8 or uint8, got {qtype.dtype.value}")
    return name, qtype


def _bias(ctx: LoweringContext, index: int, expect: tuple[int, ...] | None) -> list[str]:
    if ctx.input(index) is None:
        return []
    name, qtype = ctx.tensor(index, "bias")
    if qtype.dtype is not DType.INT32:
        raise ctx.unsupported(f"bias must be int32, got {qtype.dtype.value}")
    if expect is not None and qtype.shape != expect:
        raise ctx.unsupported(f"bias shape {list(qtype.shape)} should be {list(expect)}")
    return [name]


def _requant_output(
    ctx: LoweringContext,
    x_scale: float,
    w_scale: np.ndarray,
    scale_idx: int,
    zp_idx: int,
    dtype_hint: DType,
    alpha: float = 1.0,
) -> tuple[Requant, Quant, DType]:
    zp = ctx.optional_const(zp_idx, "output zero point")
    dtype = DType.from_numpy(zp.dtype) if zp is not None else dtype_hint
    if dtype not in _QUANTIZED:
        raise ctx.unsupported(f"output must be int8 or uint8, got {dtype.value}")
    quant = ctx.quant_of(scale_idx, zp_idx, dtype)
    if quant.per_channel:
        raise ctx.unsupported("the output scale must be per tensor")
    multiplier = requant_multiplier(x_scale, w_scale, float(quant.scale[0]), alpha)
    abnormal = ~np.isfinite(multiplier) | (np.abs(multiplier) < np.finfo(np.float32).tiny)
    if abnormal.any():  # the scales are wrong, not an op hwgen lacks: the model is refused
        raise ModelError(
            f"the requantization multiplier x_scale * w_scale / y_scale = "
            f"{float(multiplier[abnormal][0]):g} is not a normal float32 (the requant unit and "
            "onnxruntime's kernels take normal multipliers only)",
            node=ctx.node.name,
            op=ctx.node.op_type,
        )
    zero = int(quant.zero_point[0])
    return Requant(OutputMode.REQUANT, multiplier, zero, dtype), quant, dtype


def _conv_common(
    ctx: LoweringContext, x_idx: int, w_idx: int
) -> tuple[str, QType, str, QType, ConvAttrs, tuple[int, ...]]:
    """Shape checks and geometry shared by QLinearConv and ConvInteger; attrs carry a
    placeholder output stage that the caller replaces."""
    x, xt = _operand(ctx, x_idx, "x")
    w, wt = _operand(ctx, w_idx, "w")
    if len(xt.shape) != 4 or len(wt.shape) != 4:
        raise ctx.unsupported(
            f"only 2-D convolution (4-D NCHW tensors) is supported, got x {list(xt.shape)}"
        )
    group = int(ctx.attr("group", 1))
    n, c, h, wd = xt.shape
    o, cg, kh, kw = wt.shape
    if group < 1 or c % group or o % group or cg != c // group:
        raise ctx.unsupported(f"group={group} does not divide {c} input / {o} output channels")
    kernel = tuple(ctx.attr("kernel_shape", [kh, kw]))
    if tuple(kernel) != (kh, kw):
        raise ctx.unsupported(f"kernel_shape {list(kernel)} disagrees with w {list(wt.shape)}")
    geom = geometry_2d(ctx, (h, wd), (kh, kw), pooling=False)
    oh, ow = geom.output_size(h, wd)
    placeholder = Requant(OutputMode.INT32, np.ones(1, np.float32))
    attrs = ConvAttrs(0, np.zeros(1, np.int32), placeholder, geometry=geom, group=group)
    return x, xt, w, wt, attrs, (n, o, oh, ow)


@lowers("QLinearConv")
def qlinear_conv(ctx: LoweringContext) -> None:
    x, xt, w, wt, base, out_shape = _conv_common(ctx, 0, 3)
    o = wt.shape[0]
    xq = ctx.quant_of(1, 2, xt.dtype)
    if xq.per_channel:
        raise ctx.unsupported("the input scale must be per tensor")
    wq = ctx.quant_of(4, 5, wt.dtype, axis=0)
    if wq.per_channel and wq.scale.size != o:
        raise ctx.unsupported(f"{wq.scale.size} weight scales for {o} output channels")
    ctx.bind_quant(x, xq)
    ctx.bind_quant(w, wq)
    requant, yq, ydtype = _requant_output(ctx, float(xq.scale[0]), wq.scale, 6, 7, xt.dtype)
    attrs = ConvAttrs(
        int(xq.zero_point[0]), wq.zero_point, requant, geometry=base.geometry, group=base.group
    )
    inputs = [x, w, *_bias(ctx, 8, (o,))]
    ctx.emit(OpKind.CONV, inputs, attrs, [(ctx.output(), QType(ydtype, out_shape, yq))])


@lowers("ConvInteger")
def conv_integer(ctx: LoweringContext) -> None:
    x, _, w, wt, base, out_shape = _conv_common(ctx, 0, 1)
    x_zp = _zero_point(ctx, 2, "x zero point", None)
    w_zp = _zero_point(ctx, 3, "w zero point", wt.shape[0])
    attrs = ConvAttrs(int(x_zp[0]), w_zp, base.output, geometry=base.geometry, group=base.group)
    ctx.emit(OpKind.CONV, [x, w], attrs, [(ctx.output(), QType(DType.INT32, out_shape))])


def matmul_shape(ctx: LoweringContext, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """numpy.matmul's result shape, or a clear refusal."""
    if not a or not b:
        raise ctx.unsupported("matmul operands must have at least one dimension")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ctx.unsupported(f"inner dimensions differ: {list(a)} x {list(b)}")
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise ctx.unsupported(f"batch dimensions do not broadcast: {list(a)} x {list(b)}") from None
    shape = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return tuple(int(d) for d in shape)


@lowers("QLinearMatMul")
def qlinear_matmul(ctx: LoweringContext) -> None:
    a, at = _operand(ctx, 0, "a")
    b, bt = _operand(ctx, 3, "b")
    shape = matmul_shape(ctx, at.shape, bt.shape)
    aq = ctx.quant_of(1, 2, at.dtype)
    if aq.per_channel:
        raise ctx.unsupported("per-row quantization of 'a' is not supported")
    bq = ctx.quant_of(4, 5, bt.dtype, axis=len(bt.shape) - 1)
    if bq.per_channel and bq.scale.size != bt.shape[-1]:
        raise ctx.unsupported(f"{bq.scale.size} scales for {bt.shape[-1]} columns of 'b'")
    ctx.bind_quant(a, aq)
    ctx.bind_quant(b, bq)
    requant, yq, ydtype = _requant_output(ctx, float(aq.scale[0]), bq.scale, 6, 7, at.dtype)
    attrs = MatMulAttrs(int(aq.zero_point[0]), bq.zero_point, requant)
    ctx.emit(OpKind.MATMUL, [a, b], attrs, [(ctx.output(), QType(ydtype, shape, yq))])


@lowers("MatMulInteger")
def matmul_integer(ctx: LoweringContext) -> None:
    a, at = _operand(ctx, 0, "A")
    b, bt = _operand(ctx, 1, "B")
    shape = matmul_shape(ctx, at.shape, bt.shape)
    a_zp = _zero_point(ctx, 2, "a zero point", None)
    b_zp = _zero_point(ctx, 3, "b zero point", bt.shape[-1])
    attrs = MatMulAttrs(int(a_zp[0]), b_zp, Requant(OutputMode.INT32, np.ones(1, np.float32)))
    ctx.emit(OpKind.MATMUL, [a, b], attrs, [(ctx.output(), QType(DType.INT32, shape))])


@lowers("QGemm", MS_DOMAIN)
def qgemm(ctx: LoweringContext) -> None:
    a, at = _operand(ctx, 0, "A")
    b, bt = _operand(ctx, 3, "B")
    trans_a, trans_b = bool(ctx.attr("transA", 0)), bool(ctx.attr("transB", 0))
    alpha = float(ctx.attr("alpha", 1.0))
    if len(at.shape) != 2 or len(bt.shape) != 2:
        raise ctx.unsupported("QGemm operands must be 2-D")
    m, k = at.shape[::-1] if trans_a else at.shape
    kb, n = bt.shape[::-1] if trans_b else bt.shape
    if k != kb:
        raise ctx.unsupported(f"inner dimensions differ: {list(at.shape)} x {list(bt.shape)}")
    aq = ctx.quant_of(1, 2, at.dtype)
    bq = ctx.quant_of(4, 5, bt.dtype, axis=0 if trans_b else 1)
    if bq.per_channel and bq.scale.size != n:
        raise ctx.unsupported(f"{bq.scale.size} scales for {n} columns of B")
    ctx.bind_quant(a, aq)
    ctx.bind_quant(b, bq)
    bias = _bias(ctx, 6, None)
    if bias:
        c_shape = ctx.graph.tensors[bias[0]].shape
        try:
            if np.broadcast_shapes(c_shape, (m, n)) != (m, n):
                raise ValueError
        except ValueError:
            raise ctx.unsupported(
                f"C of shape {list(c_shape)} does not broadcast to {[m, n]}"
            ) from None
    if ctx.input(7) is None:
        xs = np.float32(np.float32(alpha) * np.float32(aq.scale[0]))
        multiplier = np.asarray((xs * bq.scale).astype(np.float32))
        requant = Requant(OutputMode.FLOAT, multiplier)
        out = QType(DType.FLOAT32, (m, n))
    else:
        requant, yq, ydtype = _requant_output(
            ctx, float(aq.scale[0]), bq.scale, 7, 8, at.dtype, alpha
        )
        out = QType(ydtype, (m, n), yq)
    attrs = MatMulAttrs(int(aq.zero_point[0]), bq.zero_point, requant, trans_a, trans_b)
    ctx.emit(OpKind.MATMUL, [a, b, *bias], attrs, [(ctx.output(), out)])
