"""ONNX -> integer IR: QDQ folding, then one lowering per node, with a report per ONNX node."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import onnx

from hwgen.errors import DownstreamError, HwgenError, ModelError, UnsupportedError
from hwgen.frontend import (
    lower_elementwise,
    lower_linear,
    lower_lookup,
    lower_movement,
    lower_pool,
    lower_quant,
    lower_resize,
)
from hwgen.frontend.context import LoweringContext
from hwgen.frontend.dialect import ONNXRUNTIME_OPS, Dialect
from hwgen.frontend.integer_dialect import cast_inputs, cast_outputs, fold_nemo, integer_lowering
from hwgen.frontend.lift_1d import lift_1d
from hwgen.frontend.model import index_model
from hwgen.frontend.ort_graph import channels_last_resizes
from hwgen.frontend.qdq import QdqFolding, fold_qdq
from hwgen.frontend.registry import lowering_for
from hwgen.frontend.validate import check_declared_shapes, check_sizes, validate
from hwgen.ir import Graph, OpKind
from hwgen.ir.types import DType

# Importing the lowering modules registers them.
_REGISTERED = (
    lower_elementwise,
    lower_linear,
    lower_lookup,
    lower_movement,
    lower_pool,
    lower_quant,
    lower_resize,
)

_QUANTIZED_OPS = ONNXRUNTIME_OPS


class Status(enum.Enum):
    LOWERED = "lowered"
    FOLDED = "folded"  # absorbed into another node's integer op, or computed at compile time
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class NodeReport:
    """What one ONNX node became."""

    name: str
    op_type: str
    status: Status
    ir_op: OpKind | None = None
    into: str | None = None  # the IR node that stands for it
    reason: str = ""
    # Unsupported only because an input comes from an unsupported node: not a root cause.
    downstream: bool = False


@dataclass
class Lowering:
    graph: Graph
    reports: list[NodeReport] = field(default_factory=list)
    errors: list[HwgenError] = field(default_factory=list)
    dialect: Dialect = Dialect.ONNXRUNTIME

    @property
    def supported(self) -> bool:
        return not self.errors


def lower_model(
    model: onnx.ModelProto,
    dialect: Dialect | None = None,
    input_types: Mapping[str, DType] | None = None,
) -> Lowering:
    """Lower every node it can; unsupported nodes are reported, not raised. `input_types`:
    the 8-bit type an integer graph's float- or int64-carried input holds (int8 by default)."""
    dialect = validate(model, dialect)
    added: set[str] = set()  # nodes of hwgen's own rewrites: not reported as the user's
    if dialect is not Dialect.ONNXRUNTIME:
        model, added = lift_1d(model)
    original = index_model(model)
    if dialect is Dialect.ONNXRUNTIME:
        _refuse_float_only(original.nodes, model)
        folding = fold_qdq(original)
        view = index_model(folding.model)
    else:
        folded, nemo_origins = fold_nemo(original) if dialect is Dialect.NEMO else (model, {})
        folding = QdqFolding(folded, origins=nemo_origins)
        view = index_model(folded)
    ctx = LoweringContext(view)
    ctx.dialect = dialect
    if dialect is Dialect.ONNXRUNTIME:
        ctx.channels_last = channels_last_resizes(original.model)
    result = Lowering(ctx.graph, dialect=dialect)
    if dialect is not Dialect.ONNXRUNTIME:
        cast_inputs(ctx, input_types or {})
    for node in view.nodes:
        ctx.node = node
        before = len(ctx.graph.nodes)
        fn = lowering_for(node.domain, node.op_type)
        if dialect is not Dialect.ONNXRUNTIME:
            fn = integer_lowering(node.domain, node.op_type) or fn
        try:
            if fn is None:
                domain = f"{node.domain}." if node.domain else ""
                raise UnsupportedError(
                    f"op {domain}{node.op_type} has no integer lowering in hwgen",
                    node=node.name,
                    op=node.op_type,
                )
            fn(ctx)
        except UnsupportedError as exc:
            error = exc
            downstream = isinstance(exc, DownstreamError)
            if downstream and node.name in added:
                continue  # the unsupported node before it is the one to report
            if node.name in folding.reasons and not downstream:  # a QDQ group says why
                error = UnsupportedError(
                    folding.reasons[node.name], node=node.name, op=node.op_type
                )
            result.errors.append(error)
            result.reports.append(
                NodeReport(
                    node.name,
                    node.op_type,
                    Status.UNSUPPORTED,
                    reason=error.reason,
                    downstream=downstream,
                )
            )
            continue
        emitted = ctx.graph.nodes[before:]
        if node.name in added:
            continue
        origins = folding.origins.get(node.name, [node.name])
        for origin in origins:
            op_type = _op_type(original.nodes, origin)
            if emitted:
                status = Status.LOWERED if origin == node.name else Status.FOLDED
                result.reports.append(
                    NodeReport(origin, op_type, status, emitted[0].op, emitted[0].name)
                )
            else:
                result.reports.append(
                    NodeReport(
                        origin, op_type, Status.FOLDED, reason="constant, computed at compile time"
                    )
                )
    for out in ctx.graph.outputs:
        if out not in ctx.graph.tensors and not result.errors:
            result.errors.append(ModelError(f"graph output '{out}' was not produced"))
    check_sizes(ctx.graph)
    if not result.errors:
        check_declared_shapes(model, ctx.graph)
    if dialect is not Dialect.ONNXRUNTIME and not result.errors:
        cast_outputs(ctx, model)
    return result


def _op_type(nodes: list[onnx.NodeProto], name: str) -> str:
    return next((n.op_type for n in nodes if n.name == name), "?")


def _refuse_float_only(nodes: list[onnx.NodeProto], model: onnx.ModelProto) -> None:
    if any(n.op_type in _QUANTIZED_OPS for n in nodes):
        return
    integer_inputs = [
        i.name
        for i in model.graph.input
        if i.type.tensor_type.elem_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
    ]
    if integer_inputs:
        return
    raise ModelError(
        "float-only graph: no quantized op (QuantizeLinear, QLinearConv, ConvInteger, ...) and no "
        "int8/uint8 input. Quantize it first, e.g. with onnxruntime.quantization.quantize_static"
    )


def lower_or_raise(
    model: onnx.ModelProto,
    dialect: Dialect | None = None,
    input_types: Mapping[str, DType] | None = None,
) -> Graph:
    result = lower_model(model, dialect, input_types)
    if result.errors:
        raise result.errors[0]
    return result.graph
