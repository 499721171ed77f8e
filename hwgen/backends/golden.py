"""The golden backend: the compiled graph run node by node on the bit-exact numpy models of
sim_models. It is also the reference every other backend is checked against, layer by layer."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from hwgen.backends.base import Backend, Inputs, RunResult
from hwgen.build import Build
from hwgen.errors import HwgenError
from hwgen.ir import (
    ArithAttrs,
    ClampAttrs,
    ConcatAttrs,
    ConvAttrs,
    FloatSoftmaxAttrs,
    GatherAttrs,
    GlobalPoolAttrs,
    Graph,
    Im2ColAttrs,
    IntHardswishAttrs,
    IntPoolAttrs,
    IntReduceAttrs,
    LinearAttrs,
    LookupAttrs,
    MatMulAttrs,
    MulAttrs,
    Node,
    OpKind,
    OutputMode,
    PadAttrs,
    PoolAttrs,
    PoolRounding,
    QType,
    ResizeAttrs,
    ShiftRequantAttrs,
    SliceAttrs,
    SoftmaxAttrs,
    TransposeAttrs,
)
from hwgen.ir.types import DType
from hwgen.progress import Status, quiet
from hwgen.sim_models import arith, elementwise, fp, linear, movement, pool, quant, requant, resize

Array = npt.NDArray[np.generic]
Kernel = Callable[[Node, list[Array], list[QType], QType], Array]


def _qparams(qtype: QType) -> tuple[float, int]:
    assert qtype.quant is not None and not qtype.quant.per_channel
    return float(qtype.quant.scale[0]), int(qtype.quant.zero_point[0])


def _output_stage(attrs: LinearAttrs, acc: npt.NDArray[np.int32], channel_axis: int) -> Array:
    out = attrs.output
    if out.mode is OutputMode.INT32:
        return acc
    if out.mode is OutputMode.SHIFT:
        assert out.shift is not None
        rq = dataclasses.replace(out.shift, axis=channel_axis % acc.ndim)
        mul = quant.channel_view(rq.mul, acc.ndim, rq.axis)
        add = quant.channel_view(rq.add, acc.ndim, rq.axis)
        y = requant.requant_shift(acc, mul, add, rq.shift, rq.lower, rq.upper)
        return y.astype(out.dtype.numpy)
    mult = quant.channel_view(out.multiplier, acc.ndim, channel_axis)
    if out.mode is OutputMode.FLOAT:
        return np.asarray((acc.astype(np.float32) * mult).astype(np.float32))
    result = quant.requantize(acc, mult, out.zero_point, out.dtype.numpy)
    if out.clamp is not None:
        result = elementwise.clamp(result, *out.clamp)
    return result


def _quantize(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    q = out.quant
    assert q is not None
    return quant.quantize_linear(args[0], q.scale, q.zero_point, out.dtype.numpy, q.axis)


def _dequantize(node: Node, args: list[Array], types: list[QType], _: QType) -> Array:
    q = types[0].quant
    assert q is not None
    return quant.dequantize_linear(args[0], q.scale, q.zero_point, q.axis)


def _conv(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, ConvAttrs)
    bias = args[2] if len(args) > 2 else None
    acc = linear.conv2d_acc(
        args[0], args[1], attrs.geometry, attrs.group, attrs.x_zero_point, attrs.w_zero_point, bias
    )
    return _output_stage(attrs, acc, channel_axis=1)


def _matmul(node: Node, args: list[Array], types: list[QType], _: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, MatMulAttrs)
    a = args[0].T if attrs.trans_a else args[0]
    b = args[1].T if attrs.trans_b else args[1]
    b_zp = attrs.w_zero_point if attrs.w_zero_point.size > 1 else attrs.w_zero_point.reshape(())
    acc = linear.matmul_acc(a, b, attrs.x_zero_point, b_zp, args[2] if len(args) > 2 else None)
    return _output_stage(attrs, acc, channel_axis=-1)


def _add(node: Node, args: list[Array], types: list[QType], out: QType) -> Array:
    (sa, za), (sb, zb), (sy, zy) = _qparams(types[0]), _qparams(types[1]), _qparams(out)
    return elementwise.qlinear_add(args[0], sa, za, args[1], sb, zb, sy, zy, out.dtype.numpy)


def _avgpool(node: Node, args: list[Array], types: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, PoolAttrs)
    (sx, zx), (sy, zy) = _qparams(types[0]), _qparams(out)
    return pool.qlinear_avgpool2d(args[0], sx, zx, sy, zy, attrs.geometry, attrs.count_include_pad)


def _int_avgpool(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, IntPoolAttrs)
    half_up = attrs.rounding is PoolRounding.HALF_UP
    return pool.int_avgpool2d(args[0], attrs.geometry, attrs.count_include_pad, half_up)


def _global_avgpool(node: Node, args: list[Array], types: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, GlobalPoolAttrs)
    (sx, zx), (sy, zy) = _qparams(types[0]), _qparams(out)
    return pool.qlinear_global_avgpool(args[0], sx, zx, sy, zy, attrs.channels_last)


def _maxpool(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    assert isinstance(node.attrs, PoolAttrs)
    return pool.maxpool2d(args[0], node.attrs.geometry)


def _clamp(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    assert isinstance(node.attrs, ClampAttrs)
    return elementwise.clamp(args[0], node.attrs.lower, node.attrs.upper)


def _reshape(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    return args[0].reshape(out.shape)


def _transpose(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    assert isinstance(node.attrs, TransposeAttrs)
    return np.ascontiguousarray(args[0].transpose(node.attrs.perm))


def _int_reduce(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, IntReduceAttrs)
    value = pool.int_reduce(args[0], attrs.axes, attrs.keepdims, attrs.mean)
    return quant.wrap_int32(value) if out.dtype is DType.INT32 else value.astype(out.dtype.numpy)


def _int_matmul(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    return quant.wrap_int32(np.matmul(args[0].astype(np.int64), args[1].astype(np.int64)))


def _int_hardswish(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, IntHardswishAttrs)
    return elementwise.int_hardswish(args[0], attrs.three, attrs.six, attrs.one_over_six)


def _lookup(node: Node, args: list[Array], types: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, LookupAttrs)
    return elementwise.lookup(args[0], attrs.table, types[0].dtype.qmin, out.dtype.numpy)


def _mul(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, MulAttrs)
    return elementwise.qlinear_mul(
        args[0],
        args[1],
        attrs.a_zero_point,
        attrs.b_zero_point,
        attrs.ratio,
        attrs.y_zero_point,
        out.dtype.numpy,
    )


def _gather(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, GatherAttrs)
    return np.ascontiguousarray(args[0].reshape(-1)[attrs.source].reshape(out.shape))


def _arith(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, ArithAttrs)
    return arith.run(args, attrs.steps, out.dtype)


def _float_softmax(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, FloatSoftmaxAttrs)
    x = np.asarray(args[0], np.float32)
    return fp.softmax_rows(x.reshape(-1, x.shape[-1]), attrs.log).reshape(x.shape)


def _resize(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, ResizeAttrs)
    return resize.resize(args[0], attrs)


def _softmax(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, SoftmaxAttrs)
    return elementwise.qlinear_softmax(args[0], attrs.table, attrs.scale, attrs.y_zero_point)


def _slice(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, SliceAttrs)
    picks = [list(attrs.indices(axis)) for axis in range(args[0].ndim)]
    return np.ascontiguousarray(args[0][np.ix_(*picks)])


def _concat(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    assert isinstance(node.attrs, ConcatAttrs)
    return np.concatenate(args, axis=node.attrs.axis)


def _pad(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    assert isinstance(node.attrs, PadAttrs)
    return movement.pad_constant(args[0], node.attrs.pads, node.attrs.value)


def _im2col(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    assert isinstance(node.attrs, Im2ColAttrs)
    return movement.im2col(args[0], node.attrs.geometry, node.attrs.pad_value)


def _cast(node: Node, args: list[Array], types: list[QType], out: QType) -> Array:
    value = args[0]
    if out.dtype is DType.FLOAT32:
        return value.astype(np.float32)
    if value.dtype.kind in "iu" and out.dtype is DType.INT64:
        return value.astype(np.int64)
    # Integers compared as int64 (np.rint of int8 would give float16), floats as float64.
    wide = value.astype(np.int64 if value.dtype.kind in "iu" else np.float64)
    integral = np.rint(wide) if wide.dtype.kind == "f" else wide
    bad = (integral != wide) | (integral < out.dtype.qmin) | (integral > out.dtype.qmax)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        found = value[where].item()
        hint = ""
        whole = bool(np.isfinite(float(found))) and float(found) == round(float(found))
        if node.name == f"{node.inputs[0]}.cast" and whole:
            wider = "uint8" if 0 <= float(found) <= 255 else "int32"
            hint = f" (its input type is {out.dtype.value}: --input-type {node.inputs[0]}={wider}?)"
        raise HwgenError(
            f"tensor '{node.inputs[0]}' carries {found!r} at {list(where)}, where an integer in "
            f"[{out.dtype.qmin}, {out.dtype.qmax}] is required{hint}",
            node=node.name,
            op=node.op.value,
        )
    return integral.astype(out.dtype.numpy)


def _int_add(node: Node, args: list[Array], _: list[QType], __: QType) -> Array:
    return quant.wrap_int32(args[0].astype(np.int64) + args[1].astype(np.int64))


def _requant_shift(node: Node, args: list[Array], _: list[QType], out: QType) -> Array:
    attrs = node.attrs
    assert isinstance(attrs, ShiftRequantAttrs)
    x = args[0]
    mul = quant.channel_view(attrs.mul, x.ndim, attrs.axis)
    add = quant.channel_view(attrs.add, x.ndim, attrs.axis)
    y = requant.requant_shift(x, mul, add, attrs.shift, attrs.lower, attrs.upper)
    return y.astype(out.dtype.numpy)


KERNELS: dict[OpKind, Kernel] = {
    OpKind.QUANTIZE: _quantize,
    OpKind.DEQUANTIZE: _dequantize,
    OpKind.CONV: _conv,
    OpKind.MATMUL: _matmul,
    OpKind.ADD: _add,
    OpKind.AVGPOOL: _avgpool,
    OpKind.GLOBAL_AVGPOOL: _global_avgpool,
    OpKind.MAXPOOL: _maxpool,
    OpKind.CLAMP: _clamp,
    OpKind.RESHAPE: _reshape,
    OpKind.TRANSPOSE: _transpose,
    OpKind.SLICE: _slice,
    OpKind.INT_REDUCE: _int_reduce,
    OpKind.INT_HARDSWISH: _int_hardswish,
    OpKind.LOOKUP: _lookup,
    OpKind.MUL: _mul,
    OpKind.SOFTMAX: _softmax,
    OpKind.RESIZE: _resize,
    OpKind.ARITH: _arith,
    OpKind.FLOAT_SOFTMAX: _float_softmax,
    OpKind.GATHER: _gather,
    OpKind.INT_MATMUL: _int_matmul,
    OpKind.CONCAT: _concat,
    OpKind.PAD: _pad,
    OpKind.IM2COL: _im2col,
    OpKind.CAST: _cast,
    OpKind.INT_ADD: _int_add,
    OpKind.REQUANT_SHIFT: _requant_shift,
    OpKind.INT_AVGPOOL: _int_avgpool,
}


def check_inputs(graph: Graph, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, Array]:
    """Inputs keyed by the graph's input names, in its dtypes and shapes, or a clear error."""
    missing = [name for name in graph.inputs if name not in inputs]
    if missing:
        raise HwgenError(f"missing input(s) {missing}; the graph takes {graph.inputs}")
    extra = [name for name in inputs if name not in graph.inputs]
    if extra:
        raise HwgenError(f"unknown input(s) {extra}; the graph takes {graph.inputs}")
    checked: dict[str, Array] = {}
    for name in graph.inputs:
        want = graph.type_of(name)
        value = np.asarray(inputs[name])
        if value.dtype != want.dtype.numpy:
            raise HwgenError(f"input '{name}' is {value.dtype}, the graph wants {want.dtype.value}")
        if value.shape != want.shape:
            raise HwgenError(
                f"input '{name}' has shape {list(value.shape)}, the graph wants {list(want.shape)}"
            )
        checked[name] = value
    return checked


def run(
    graph: Graph,
    inputs: Mapping[str, npt.ArrayLike],
    observe: Callable[[Node, Array], None] | None = None,
) -> dict[str, Array]:
    """Run the graph; `observe` sees every node's output as it is produced."""
    values: dict[str, Array] = dict(graph.constants)
    values.update(check_inputs(graph, inputs))
    for node in graph.nodes:
        args = [values[name] for name in node.inputs]
        types = [graph.type_of(name) for name in node.inputs]
        out_type = graph.type_of(node.outputs[0])
        result = np.asarray(KERNELS[node.op](node, args, types, out_type))
        if result.dtype != out_type.dtype.numpy or result.shape != out_type.shape:
            raise AssertionError(
                f"{node.name}: kernel gave {result.dtype}{list(result.shape)}, IR says "
                f"{out_type.describe()}"
            )
        values[node.outputs[0]] = result
        if observe is not None:
            observe(node, result)
    return {name: values[name] for name in graph.outputs}


class GoldenBackend(Backend):
    name = "golden"
    summary = "the bit-exact numpy model of the compiled graph"

    def run(self, build: Build, inputs: Sequence[Inputs], status: Status = quiet) -> RunResult:
        began = time.perf_counter()
        with status("running the golden model"):
            outputs = [run(build.graph, feed) for feed in inputs]
        return RunResult(outputs, seconds=time.perf_counter() - began)
