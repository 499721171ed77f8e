"""Integer-only graphs (Deeploy, NEMO/DORY): integer values carried in float32 or int64 tensors,
requantization spelled out. Graph inputs are cast to int8 at the boundary, and each integer op
becomes an exact integer IR op; requantization becomes REQUANT_SHIFT.

NEMO/DORY chains after an integer op, Mul(k) -> Add(b) -> Div(2^s) -> Floor -> Clip(lo, hi)
(-> Cast), are folded first into one requant node of a private domain; Deeploy's RequantShift
is clamp(floor((x * mul + add + div / 2) / div)) to its level range.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from hwgen.errors import ModelError, UnsupportedError
from hwgen.frontend.context import LoweringContext
from hwgen.frontend.dialect import DEEPLOY_OPS, Dialect
from hwgen.frontend.geometry import geometry_2d
from hwgen.frontend.lower_arith import ARITH_LOWERINGS, container_of, lower_binary, range_of
from hwgen.frontend.model import OnnxView
from hwgen.frontend.registry import Lowering
from hwgen.ir import (
    ArithAttrs,
    ArithKind,
    ArithStep,
    ConvAttrs,
    DType,
    IntHardswishAttrs,
    IntPoolAttrs,
    IntReduceAttrs,
    MatMulAttrs,
    NoAttrs,
    Node,
    OpKind,
    OutputMode,
    PoolRounding,
    QType,
    Requant,
    ShiftRequantAttrs,
)
from hwgen.ir.geometry import Conv2dGeometry

NEMO_DOMAIN = "hwgen.nemo"
POOLS = ("AveragePool", "GlobalAveragePool")
# Deeploy declares activations as float32 or int32 tensors too, holding 8-bit values.
CONTAINER_OF = {
    onnx.TensorProto.FLOAT: DType.FLOAT32,
    onnx.TensorProto.INT64: DType.INT64,
    onnx.TensorProto.INT32: DType.INT32,
}
CONTAINERS = tuple(CONTAINER_OF.values())


def integer_constant(
    ctx: LoweringContext, index: int, what: str, dtype: DType
) -> npt.NDArray[np.int64]:
    """A constant that must hold integers in the range of `dtype`, or a refusal naming the
    first value that does not."""
    value = ctx.const(index, what).astype(np.float64)
    integral = np.rint(value)
    bad = (integral != value) | (integral < dtype.qmin) | (integral > dtype.qmax)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ctx.unsupported(
            f"{what} '{ctx.required(index, what)}' carries {value[where].item()!r} at "
            f"{list(where)}, "
            f"where an integer in [{dtype.qmin}, {dtype.qmax}] is required"
        )
    return integral.astype(np.int64)


def _int_operand(ctx: LoweringContext, index: int, what: str) -> tuple[str, QType]:
    name, qtype = ctx.tensor(index, what)
    if not qtype.dtype.is_integer:
        raise ctx.unsupported(f"{what} '{name}' is not an integer tensor here")
    return name, qtype


def _int32_output(shape: tuple[int, ...]) -> QType:
    return QType(DType.INT32, shape)


def _exact(multiplier_size: int) -> Requant:
    return Requant(OutputMode.INT32, np.ones(multiplier_size, np.float32))


def _record_sums(
    ctx: LoweringContext,
    out: str,
    x: str,
    weights: npt.NDArray[np.int64],
    bias: npt.NDArray[np.int64] | None,
) -> None:
    """The range of a convolution's (or matrix product's) exact sums, one row of `weights` per
    output channel, from its input's range: what the requantization after it starts from."""
    lo, hi = range_of(ctx, x)
    rows = weights.reshape(weights.shape[0], -1).astype(np.float64)
    top = np.where(rows > 0, rows * hi, rows * lo).sum(axis=1)
    bottom = np.where(rows > 0, rows * lo, rows * hi).sum(axis=1)
    if bias is not None:
        top, bottom = top + bias, bottom + bias
    ctx.ranges[out] = (float(bottom.min()), float(top.max()))
    ctx.integral.add(out)
    ctx.containers[out] = container_of(ctx, ctx.required(0, "input"))


def lower_conv(ctx: LoweringContext) -> None:
    x, xt = _int_operand(ctx, 0, "X")
    w = integer_constant(ctx, 1, "weights", DType.INT8)
    if len(xt.shape) != 4 or w.ndim != 4:
        raise ctx.unsupported("only 2-D convolution is supported")
    group = int(ctx.attr("group", 1))
    o = w.shape[0]
    geom = geometry_2d(ctx, (xt.shape[2], xt.shape[3]), tuple(w.shape[2:]), pooling=False)
    if xt.shape[1] != w.shape[1] * group:
        raise ctx.unsupported(
            f"{xt.shape[1]} input channels for weights {list(w.shape)}, group {group}"
        )
    weights = f"{ctx.node.name}.weights"
    ctx.graph.constants[weights] = w.astype(np.int8)
    ctx.graph.tensors[weights] = QType(DType.INT8, tuple(w.shape))
    inputs = [x, weights]
    if ctx.input(2) is not None:
        bias = f"{ctx.node.name}.bias"
        value = integer_constant(ctx, 2, "bias", DType.INT32)
        if value.shape != (o,):
            raise ctx.unsupported(f"bias of shape {list(value.shape)} for {o} output channels")
        ctx.graph.constants[bias] = value.astype(np.int32)
        ctx.graph.tensors[bias] = QType(DType.INT32, (o,))
        inputs.append(bias)
    oh, ow = geom.output_size(xt.shape[2], xt.shape[3])
    bias_value = integer_constant(ctx, 2, "bias", DType.INT32) if ctx.input(2) else None
    _record_sums(ctx, ctx.output(), x, w, bias_value)
    attrs = ConvAttrs(0, np.zeros(1, np.int32), _exact(1), geometry=geom, group=group)
    ctx.emit(OpKind.CONV, inputs, attrs, [(ctx.output(), _int32_output((xt.shape[0], o, oh, ow)))])


def _integer_attr(ctx: LoweringContext, name: str) -> int:
    value = float(ctx.attr(name, 1.0))
    if value != int(value):
        raise ctx.unsupported(f"{name} = {value:g}: an integer Gemm scales by integers")
    return int(value)


def lower_matmul(ctx: LoweringContext) -> None:
    a, at = _int_operand(ctx, 0, "A")
    gemm = ctx.node.op_type == "Gemm"
    if not gemm and ctx.required(1, "B") not in ctx.consts:
        _matmul_of_tensors(ctx, a, at)
        return
    alpha, beta = (_integer_attr(ctx, name) if gemm else 1 for name in ("alpha", "beta"))
    if gemm and ctx.attr("transA", 0):
        raise ctx.unsupported("integer Gemm with transA")
    b = integer_constant(ctx, 1, "weights", DType.INT8)
    trans_b = bool(ctx.attr("transB", 0)) if gemm else False
    if b.ndim != 2 or len(at.shape) < 2 or (gemm and len(at.shape) != 2):
        raise ctx.unsupported("only 2-D integer matrix products are supported")
    if len(at.shape) > 2:  # a batch of rows times one matrix: the rows stacked
        stacked = f"{ctx.node.name}.rows"
        rows = QType(at.dtype, (int(np.prod(at.shape[:-1])), at.shape[-1]))
        ctx.emit(OpKind.RESHAPE, [a], NoAttrs(), [(stacked, rows)])
        if a in ctx.ranges:
            ctx.ranges[stacked] = ctx.ranges[a]
        a, at, batch = stacked, rows, at.shape[:-1]
    else:
        batch = ()
    k, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if at.shape[1] != k:
        raise ctx.unsupported(f"A of shape {list(at.shape)} for B of shape {list(b.shape)}")
    weights = f"{ctx.node.name}.weights"
    ctx.graph.constants[weights] = b.astype(np.int8)
    ctx.graph.tensors[weights] = QType(DType.INT8, tuple(b.shape))
    inputs = [a, weights]
    offset = None
    if gemm and ctx.input(2) is not None:
        c = integer_constant(ctx, 2, "bias", DType.INT32)
        m = at.shape[0]
        if c.ndim > 2 or any(
            k not in (1, full) for k, full in zip(c.shape[::-1], (n, m), strict=False)
        ):
            raise ctx.unsupported(f"C of shape {list(c.shape)} does not broadcast to [{m}, {n}]")
        if c.size == n and (c.ndim < 2 or c.shape[0] == 1):  # one value per output column
            bias = f"{ctx.node.name}.bias"
            ctx.graph.constants[bias] = c.astype(np.int32).reshape(-1)
            ctx.graph.tensors[bias] = QType(DType.INT32, (n,))
            inputs.append(bias)
        else:  # a matrix: the product, then C added to it
            offset = c
    if (alpha != 1 or beta != 1) and len(inputs) > 2:  # beta scales C, which the bias holds
        offset, inputs = np.broadcast_to(ctx.graph.constants.pop(inputs[2]), (n,)), inputs[:2]
    attrs = MatMulAttrs(0, np.zeros(1, np.int32), _exact(1), trans_b=trans_b)
    shape = (at.shape[0], n)
    _record_sums(ctx, ctx.output(), a, b if trans_b else b.T, None)
    last = offset is None and alpha == 1 and not batch
    product = ctx.output() if last else f"{ctx.node.name}.product"
    ctx.emit(OpKind.MATMUL, inputs, attrs, [(product, _int32_output(shape))])
    if alpha != 1:  # Deeploy's kernel: alpha * sum + beta * C, in int32
        scaled = f"{ctx.node.name}.scaled"
        step = ArithStep(ArithKind.MUL, DType.INT32, np.array([alpha], np.int32))
        node = ctx.emit(
            OpKind.ARITH, [product], ArithAttrs((step,)), [(scaled, _int32_output(shape))]
        )
        node.name = f"{ctx.node.name}.alpha"
        product = scaled
    if offset is not None:
        name = f"{ctx.node.name}.offset"
        target = ctx.output() if not batch else f"{ctx.node.name}.summed"
        wrapped = (offset.astype(np.int64) * beta).astype(np.int32).astype(np.int64)
        _add_constant(ctx, product, _int32_output(shape), wrapped, target, name)
        product = target
    if batch:
        node = ctx.emit(
            OpKind.RESHAPE, [product], NoAttrs(), [(ctx.output(), _int32_output((*batch, n)))]
        )
        node.name = f"{ctx.node.name}.unstack"


def _matmul_of_tensors(ctx: LoweringContext, a: str, at: QType) -> None:
    """A MatMul of two runtime 8-bit tensors (attention's products), batched over equal
    leading axes, to int32: on the host."""
    b, bt = _int_operand(ctx, 1, "B")
    for name, qtype in ((a, at), (b, bt)):
        if qtype.dtype not in (DType.INT8, DType.UINT8) or len(qtype.shape) < 2:
            raise ctx.unsupported(f"MatMul operand '{name}' is {qtype.describe()}")
    if at.shape[:-2] != bt.shape[:-2] or at.shape[-1] != bt.shape[-2]:
        raise ctx.unsupported(f"MatMul of shapes {list(at.shape)} and {list(bt.shape)}")
    shape = (*at.shape[:-1], bt.shape[-1])
    ctx.emit(OpKind.INT_MATMUL, [a, b], NoAttrs(), [(ctx.output(), _int32_output(shape))])


def lower_add(ctx: LoweringContext) -> None:
    """The exact sum of two integer tensors, or of one and a constant broadcast to its shape
    (a bias or an offset matrix)."""
    constant = [i for i in (0, 1) if ctx.required(i, "operand") in ctx.consts]
    if len(constant) == 1:
        x, xt = _int_operand(ctx, 1 - constant[0], "A" if constant[0] else "B")
        k = integer_constant(ctx, constant[0], "addend", DType.INT32)
        _add_constant(ctx, x, xt, k, ctx.output())
        return
    a, at = _int_operand(ctx, 0, "A")
    b, bt = _int_operand(ctx, 1, "B")
    if at.shape != bt.shape:
        raise ctx.unsupported(f"integer Add of shapes {list(at.shape)} and {list(bt.shape)}")
    ctx.emit(OpKind.INT_ADD, [a, b], NoAttrs(), [(ctx.output(), _int32_output(at.shape))])


def _add_constant(
    ctx: LoweringContext, x: str, xt: QType, k: npt.NDArray[np.int64], output: str, name: str = ""
) -> None:
    if np.broadcast_shapes(xt.shape, k.shape) != xt.shape:
        raise ctx.unsupported(
            f"a constant of shape {list(k.shape)} added to {list(xt.shape)} would broadcast it"
        )
    addend = f"{name or ctx.node.name}.addend"
    ctx.graph.constants[addend] = np.broadcast_to(k, xt.shape).astype(np.int32)
    ctx.graph.tensors[addend] = QType(DType.INT32, xt.shape)
    node = ctx.emit(OpKind.INT_ADD, [x, addend], NoAttrs(), [(output, _int32_output(xt.shape))])
    node.name = name or node.name


def _shift_of(ctx: LoweringContext, div: int) -> int:
    if div < 1 or div & (div - 1):
        raise ctx.unsupported(f"div = {div}: requantization divides by a power of two only")
    return div.bit_length() - 1


def _channel_values(
    ctx: LoweringContext, index: int, what: str, shape: tuple[int, ...]
) -> tuple[npt.NDArray[np.int64], int]:
    """`what` from the node's input `index`, or from its attribute of that name, and the axis
    it runs along: one value, one per channel (axis 1), or one per row of a matrix (axis 0,
    Deeploy's per-row GEMM requantization: a constant of shape [rows, 1])."""
    channels = shape[1] if len(shape) > 1 else 1
    if ctx.input(index) is None:
        attribute = ctx.attr(what)
        if attribute is None:
            raise ctx.unsupported(f"no {what}: neither input {index} nor a '{what}' attribute")
        raw = np.atleast_1d(np.asarray(attribute, dtype=np.float64))
        fractional = raw[np.rint(raw) != raw]
        if fractional.size:
            raise ctx.unsupported(
                f"attribute {what} carries {fractional[0].item()!r}, where an integer is required"
            )
        values = raw.astype(np.int64)
        layout: tuple[int, ...] = values.shape
    else:
        constant = integer_constant(ctx, index, what, DType.INT32)
        values, layout = constant.reshape(-1), tuple(constant.shape)
    if values.size in (1, channels):
        return values, 1
    if len(shape) == 2 and values.size == shape[0] and layout[-1:] == (1,):
        return values, 0
    raise ctx.unsupported(f"{what} has {values.size} values for {channels} channels")


def lower_requant_shift(ctx: LoweringContext) -> None:
    """Deeploy's RequantShift, and the NEMO chains folded into the private domain."""
    x, xt = _int_operand(ctx, 0, "data_in")
    mul, mul_axis = _channel_values(ctx, 1, "mul", xt.shape)
    add, add_axis = _channel_values(ctx, 2, "add", xt.shape)
    axis = 0 if 0 in (mul_axis, add_axis) else 1
    if axis == 0 and (mul.size != add.size and 1 not in (mul.size, add.size)):
        raise ctx.unsupported("mul and add run along different axes")
    div = int(ctx.attr("div", 1))
    shift = _shift_of(ctx, div)
    if ctx.node.domain == NEMO_DOMAIN:
        lower, upper = int(ctx.attr("lower")), int(ctx.attr("upper"))
    else:
        add = add + div // 2  # Deeploy rounds: floor((x * mul + add + div / 2) / div)
        levels = int(ctx.attr("n_levels", ctx.attr("n_levels_out", 256)))
        signed = bool(ctx.attr("signed", 1))
        lower, upper = (-(levels // 2), levels // 2 - 1) if signed else (0, levels - 1)
    dtype = DType.INT8 if lower >= -128 and upper <= 127 else DType.UINT8
    if lower < dtype.qmin or upper > dtype.qmax:
        raise ctx.unsupported(f"output range [{lower}, {upper}] does not fit 8 bits")
    if axis == 0:  # per row: both as one value per row
        mul, add = (np.broadcast_to(v, (xt.shape[0],)).copy() for v in (mul, add))
    attrs = ShiftRequantAttrs(mul, add, shift, lower, upper, axis=axis)
    ctx.emit(OpKind.REQUANT_SHIFT, [x], attrs, [(ctx.output(), QType(dtype, xt.shape))])


def lower_avgpool(ctx: LoweringContext) -> None:
    """AveragePool / GlobalAveragePool on integers. A NEMO graph follows the float mean with a
    Floor (folded into the pool, in the private domain); Deeploy's kernel rounds half up."""
    x, xt = _int_operand(ctx, 0, "X")
    if xt.dtype not in (DType.INT8, DType.UINT8) or len(xt.shape) != 4:
        raise ctx.unsupported(
            f"integer average pooling takes an int8/uint8 NCHW tensor, got {xt.describe()}"
        )
    h, w = xt.shape[2], xt.shape[3]
    if ctx.node.op_type.startswith("Global"):
        geom = Conv2dGeometry(kernel=(h, w), strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1))
        count_include_pad = False
    else:
        kernel = tuple(ctx.attr("kernel_shape", []))
        geom = geometry_2d(ctx, (h, w), kernel, pooling=True)
        count_include_pad = bool(ctx.attr("count_include_pad", 0))
    rounding = PoolRounding.FLOOR if ctx.node.domain == NEMO_DOMAIN else PoolRounding.HALF_UP
    attrs = IntPoolAttrs(geom, count_include_pad, rounding)
    shape = (xt.shape[0], xt.shape[1], *geom.output_size(h, w))
    ctx.emit(OpKind.INT_AVGPOOL, [x], attrs, [(ctx.output(), QType(xt.dtype, shape))])


def lower_reduce(ctx: LoweringContext) -> None:
    """ReduceSum (an int32 sum) and ReduceMean (rounded as Deeploy's kernels round: see
    sim_models.pool.int_reduce) over integer tensors."""
    x, xt = _int_operand(ctx, 0, "data")
    rank = len(xt.shape)
    raw = ctx.attr("axes")
    if raw is None and ctx.input(1) is not None:  # from opset 18 (ReduceSum: 13), an input
        raw = [int(a) for a in ctx.const(1, "axes").reshape(-1)]
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in (raw or range(rank))})
    if any(not 0 <= a < rank for a in axes):
        raise ctx.unsupported(f"axes {list(raw or [])} for a rank-{rank} input")
    keepdims = bool(ctx.attr("keepdims", 1))
    mean = ctx.node.op_type == "ReduceMean"
    shape = tuple(
        1 if a in axes else extent for a, extent in enumerate(xt.shape) if keepdims or a not in axes
    )
    dtype = xt.dtype if mean else DType.INT32
    attrs = IntReduceAttrs(tuple(axes), keepdims, mean)
    ctx.emit(OpKind.INT_REDUCE, [x], attrs, [(ctx.output(), QType(dtype, shape))])


def lower_hardswish(ctx: LoweringContext) -> None:
    """Deeploy's iHardswish on an int8 tensor, to int32 (sim_models.elementwise)."""
    x, xt = _int_operand(ctx, 0, "data_in")
    if xt.dtype is not DType.INT8:
        raise ctx.unsupported(f"iHardswish of {xt.dtype.value} (int8 only)")
    values = {}
    for name in ("three", "six", "one_over_six"):
        value = ctx.attr(name)
        if value is None or int(value) != value:
            raise ctx.unsupported(f"attribute {name} = {value!r}, where an integer is required")
        values[name] = int(value)
    attrs = IntHardswishAttrs(**values)
    ctx.emit(OpKind.INT_HARDSWISH, [x], attrs, [(ctx.output(), _int32_output(xt.shape))])


def _add(ctx: LoweringContext) -> None:
    """NEMO adds in its tensors' types (an ARITH step); Deeploy's Add is an exact integer one."""
    if ctx.dialect is Dialect.NEMO:
        lower_binary(ctx)
    else:
        lower_add(ctx)


INTEGER_LOWERINGS: dict[tuple[str, str], Lowering] = {
    ("", "Conv"): lower_conv,
    ("", "Gemm"): lower_matmul,
    ("", "MatMul"): lower_matmul,
    ("", "Add"): _add,
    **{("", op): lower for op, lower in ARITH_LOWERINGS.items() if op != "Add"},
    ("", "ReduceMean"): lower_reduce,
    ("", "ReduceSum"): lower_reduce,
    (NEMO_DOMAIN, "Requant"): lower_requant_shift,
    ("", "AveragePool"): lower_avgpool,
    ("", "GlobalAveragePool"): lower_avgpool,
    (NEMO_DOMAIN, "AveragePool"): lower_avgpool,
    (NEMO_DOMAIN, "GlobalAveragePool"): lower_avgpool,
}


def integer_lowering(domain: str, op_type: str) -> Lowering | None:
    """The integer dialects' own lowering of an op, where it differs from the standard one."""
    if op_type == "RequantShift":
        return lower_requant_shift
    if op_type == "iHardswish":
        return lower_hardswish
    if op_type in DEEPLOY_OPS:

        def refuse(ctx: LoweringContext) -> None:
            raise ctx.unsupported(f"integer op {op_type} (Deeploy) has no lowering in hwgen")

        return refuse
    return INTEGER_LOWERINGS.get(("" if domain == "ai.onnx" else domain, op_type))


# -- NEMO chains ----------------------------------------------------------------------------


def fold_nemo(view: OnnxView) -> tuple[onnx.ModelProto, dict[str, list[str]]]:
    """Mul -> Add -> Div -> Floor -> Clip (-> Cast) chains become one Requant node each, and
    an average pool with its Floor one integer pool."""
    consumers = view.consumers
    absorbed: dict[str, str] = {}
    replacements: dict[str, onnx.NodeProto] = {}
    extra: list[onnx.TensorProto] = []

    def sole(tensor: str, op: str) -> onnx.NodeProto | None:
        readers = consumers.get(tensor, [])
        if len(readers) == 1 and readers[0].op_type == op and tensor not in view.outputs:
            return readers[0]
        return None

    def scalar(node: onnx.NodeProto) -> tuple[str | None, np.ndarray | None]:
        for name in node.input:
            if name in view.constants:
                return name, view.constants[name]
        return None, None

    for node in view.nodes:
        if node.op_type in POOLS and node.domain in ("", "ai.onnx"):
            floor = sole(node.output[0], "Floor")
            if floor is None:
                raise UnsupportedError(
                    f"{node.op_type} must be followed by a Floor: in an integer graph its mean "
                    "is not an integer",
                    node=node.name,
                    op=node.op_type,
                )
            pooled = onnx.NodeProto()
            pooled.CopyFrom(node)
            pooled.domain = NEMO_DOMAIN
            pooled.output[0] = floor.output[0]
            replacements[node.name] = pooled
            absorbed[floor.name] = node.name
            continue
        if node.op_type != "Floor" or node.name in absorbed:
            continue
        # Other chains (DORY's Cast -> Mul -> Div on int64, a residual sum's Floor) are left to
        # their ARITH steps, node by node (lower_arith.py).
        div = view.producer.get(node.input[0])
        if div is None or div.op_type != "Div":
            continue
        chain = [div]
        source = div.input[0]
        mul_name = add_name = None
        before = view.producer.get(source)
        if before is not None and before.op_type == "Add" and scalar(before)[0] is not None:
            add_name = scalar(before)[0]
            chain.insert(0, before)
            source = next(i for i in before.input if i != add_name)
            before = view.producer.get(source)
        if before is not None and before.op_type == "Mul" and scalar(before)[0] is not None:
            mul_name = scalar(before)[0]
            chain.insert(0, before)
            source = next(i for i in before.input if i != mul_name)
        clip = sole(node.output[0], "Clip")
        _, divisor = scalar(div)
        if clip is None or divisor is None or divisor.size != 1:
            continue
        lower, upper = _clip_bounds(view, clip)
        last = clip
        cast = sole(clip.output[0], "Cast")
        if cast is not None:
            last = cast
        d = float(divisor.reshape(-1)[0])
        if not (np.isfinite(d) and 1 <= d < 2**31 and d == int(d)):
            raise UnsupportedError(
                f"Div by {d}, where an integer power of two is required", node=div.name, op="Div"
            )
        name = chain[0].name
        inputs = [source]
        for tag, found in (("mul", mul_name), ("add", add_name)):
            if found is None:
                const = f"{name}.{tag}"
                extra.append(
                    numpy_helper.from_array(
                        np.array(1.0 if tag == "mul" else 0.0, np.float32), const
                    )
                )
                found = const
            inputs.append(found)
        replacements[name] = helper.make_node(
            "Requant",
            inputs,
            [last.output[0]],
            name=name,
            domain=NEMO_DOMAIN,
            div=int(d),
            lower=lower,
            upper=upper,
        )
        for part in [*chain, node, clip, *([cast] if cast is not None else [])]:
            absorbed[part.name] = name
    model = onnx.ModelProto()
    model.CopyFrom(view.model)
    nodes = []
    for node in view.graph.node:
        if node.name in replacements:
            nodes.append(replacements[node.name])
        elif node.name not in absorbed:
            nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(extra)
    origins: dict[str, list[str]] = {}
    for part_name, owner in absorbed.items():
        origins.setdefault(owner, []).append(part_name)
    return model, origins


def _clip_bounds(view: OnnxView, clip: onnx.NodeProto) -> tuple[int, int]:
    bounds = []
    for index, attr, default in ((1, "min", -3.4e38), (2, "max", 3.4e38)):
        value: float = default
        for a in clip.attribute:
            if a.name == attr:
                value = float(helper.get_attribute_value(a))
        if index < len(clip.input) and clip.input[index]:
            bound = view.constants.get(clip.input[index])
            if bound is None or bound.shape not in ((), (1,)):
                raise UnsupportedError(
                    f"Clip's {attr} must be a constant scalar", node=clip.name, op="Clip"
                )
            value = float(bound.reshape(-1)[0])
        if not (np.isfinite(value) and value == int(value) and abs(value) < 2**31):
            raise UnsupportedError(
                f"Clip's {attr} is {value}: the output levels must be bounded by 32-bit integers",
                node=clip.name,
                op="Clip",
            )
        bounds.append(int(value))
    return bounds[0], bounds[1]


def cast_inputs(ctx: LoweringContext, input_types: Mapping[str, DType]) -> None:
    """Float32 and int64 graph inputs carry 8-bit values: an exact cast at the boundary. Whether
    they are signed the graph does not say (Deeploy's own runner takes it from the test data):
    int8 unless `input_types` says uint8."""
    unknown = sorted(set(input_types) - set(ctx.graph.inputs))
    if unknown:
        raise ModelError(
            f"--input-type names {unknown}, which the graph does not take; its inputs are "
            f"{ctx.graph.inputs}"
        )
    for name in list(ctx.graph.inputs):
        qtype = ctx.graph.tensors[name]
        if qtype.dtype in CONTAINERS:
            inner_type = input_types.get(name, DType.INT8)
            inner = f"{name}.{inner_type.value}"
            ctx.graph.tensors[inner] = QType(inner_type, qtype.shape)
            ctx.graph.nodes.append(
                Node(f"{name}.cast", OpKind.CAST, (name,), (inner,), NoAttrs(), (name,))
            )
            ctx.rename[name] = inner


def cast_outputs(ctx: LoweringContext, model: onnx.ModelProto) -> None:
    """Graph outputs declared float32 or int64 get their integers back in that container."""
    declared = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    producers = ctx.graph.producers()
    for name in ctx.graph.outputs:
        qtype = ctx.graph.tensors[name]
        container = CONTAINER_OF.get(declared.get(name, onnx.TensorProto.UNDEFINED))
        if container is None or not qtype.dtype.is_integer or qtype.dtype is container:
            continue
        inner = f"{name}.int"
        node = producers[name]
        node.outputs = tuple(inner if o == name else o for o in node.outputs)
        ctx.graph.tensors[inner] = qtype
        ctx.graph.tensors[name] = QType(container, qtype.shape)
        ctx.graph.nodes.append(
            Node(f"{name}.cast", OpKind.CAST, (inner,), (name,), NoAttrs(), (name,))
        )
