"""Element-wise functions of 8-bit tensors as tables: com.microsoft QLinearSigmoid and
QLinearLeakyRelu, and the DQ -> f -> Q groups that QDQ folding turns into hwgen's Lookup."""

from __future__ import annotations

import numpy as np

from hwgen.frontend.context import LoweringContext
from hwgen.frontend.registry import HWGEN_DOMAIN, MS_DOMAIN, lowers
from hwgen.frontend.tables import onnxruntime_table
from hwgen.ir import DType, LookupAttrs, OpKind, QType

_QUANTIZED = (DType.INT8, DType.UINT8)


def _emit_lookup(ctx: LoweringContext, table: np.ndarray | None) -> None:
    """Inputs X, X_scale, X_zero_point, Y_scale, Y_zero_point, as QLinearSigmoid's; `table`
    None: onnxruntime computes it from the node itself."""
    x, xt = ctx.tensor(0, "X")
    if xt.dtype not in _QUANTIZED:
        raise ctx.unsupported(f"input must be int8 or uint8, got {xt.dtype.value}")
    xq = ctx.quant_of(1, 2, xt.dtype)
    zp = ctx.optional_const(4, "Y_zero_point")
    ydtype = DType.from_numpy(zp.dtype) if zp is not None else xt.dtype
    if ydtype not in _QUANTIZED:
        raise ctx.unsupported(f"output must be int8 or uint8, got {ydtype.value}")
    yq = ctx.quant_of(3, 4, ydtype)
    if xq.per_channel or yq.per_channel:
        raise ctx.unsupported("a table takes one scale per tensor")
    ctx.bind_quant(x, xq)
    if table is None:
        table = onnxruntime_table(
            [ctx.node],
            ctx.node.input[0],
            ctx.output(),
            ctx.consts,
            xt.dtype,
            ydtype,
            list(ctx.view.model.opset_import),
        )
    ctx.emit(
        OpKind.LOOKUP,
        [x],
        LookupAttrs(np.asarray(table, np.int32)),
        [(ctx.output(), QType(ydtype, xt.shape, yq))],
    )


@lowers("QLinearSigmoid", MS_DOMAIN)
@lowers("QLinearLeakyRelu", MS_DOMAIN)
@lowers("QLinearSoftsign", MS_DOMAIN)
def qlinear_unary(ctx: LoweringContext) -> None:
    _emit_lookup(ctx, None)


@lowers("Lookup", HWGEN_DOMAIN)
def folded_unary(ctx: LoweringContext) -> None:
    """A DQ -> f -> Q group, its table computed by onnxruntime when it was folded."""
    table = np.asarray(ctx.attr("table"), np.int32)
    if table.shape != (256,):
        raise ctx.unsupported(f"a table of {table.size} values for an 8-bit input")
    _emit_lookup(ctx, table)
