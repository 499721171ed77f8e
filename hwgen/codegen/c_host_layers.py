"""Host layers in the generated C: for each op kind, the fields its kernel takes (computed here,
rendered as constant tables by sw/templates/network.c.j2) and how it is tiled through L1.

One emitter per op kind (`EMITTERS`); tiled layers run row by row through double-buffered L1
tiles (sw/tiling.c), the rest copy L2 to L2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen.codegen.c_abi import C_DTYPE, TensorLayout
from hwgen.errors import HwgenError
from hwgen.ir import (
    ArithAttrs,
    ArithKind,
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
    LookupAttrs,
    MatMulAttrs,
    MulAttrs,
    Node,
    OpKind,
    OutputMode,
    PadAttrs,
    PoolAttrs,
    PoolRounding,
    Requant,
    ResizeAttrs,
    ResizeKind,
    ShiftRequantAttrs,
    SliceAttrs,
    SoftmaxAttrs,
    TransposeAttrs,
)
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.ir.types import DType


def c_float(value: float) -> str:
    """An exact float32 literal (C99 hexadecimal)."""
    return float(np.float32(value)).hex() + "f"


def _pool_fields(geom: Conv2dGeometry, count_include_pad: bool) -> dict[str, Any]:
    return {
        "k": geom.kernel,
        "s": geom.strides,
        "p": geom.pads[:2],
        "d": geom.dilations,
        "pad_top": geom.pads[0],
        "count_include_pad": int(count_include_pad),
    }


@dataclass(frozen=True)
class Window:
    """What a tile of output rows reads: the window's height, stride, top padding, dilation."""

    kernel: int = 1
    stride: int = 1
    pad_top: int = 0
    dilation: int = 1


@dataclass
class HostLayer:
    """A host layer as the template renders it (`fields`, with `kind` naming its kernel), and
    how it is tiled: row-tiled through L1 over `window` (the row kernel `rows_fn`), or not."""

    fields: dict[str, Any]
    window: Window | None = None  # None: not row-tiled
    element_rows: int = 0  # row-tiled element-wise: elements of one tiling row (0: pixels)
    rows_per_tile: int = 0  # set by the tiling
    row_elements: int = 0
    inputs: list[TensorLayout] = field(default_factory=list)


def rows_per_tile(
    node: Node, out: TensorLayout, ins: list[TensorLayout], window: Window, l1: int
) -> int:
    """The most output rows whose double-buffered inputs and output fit L1 (sw/tiling.c)."""
    for rows in range(out.h, 0, -1):
        in_rows = (rows - 1) * window.stride + window.dilation * (window.kernel - 1) + 1
        need = rows * out.row_bytes + sum(2 * in_rows * t.row_bytes for t in ins)
        if need <= l1:
            return rows
    span = window.dilation * (window.kernel - 1) + 1
    need = out.row_bytes + sum(2 * span * t.row_bytes for t in ins)
    raise HwgenError(
        f"cannot be tiled into L1 = {l1} bytes: one output row needs {need} bytes (raise --l1)",
        node=node.name,
        op=node.op.value,
    )


class HostContext:
    """What the emitters read: the graph, L1's size, the layouts of tensors."""

    def __init__(self, graph: Graph, l1: int) -> None:
        self.graph = graph
        self.l1 = l1

    def layout(self, tensor: str, node: Node) -> TensorLayout:
        try:
            return TensorLayout.of(self.graph.type_of(tensor), f"node '{node.name}'")
        except HwgenError as exc:
            raise HwgenError(exc.reason) from None

    def refuse(self, node: Node, why: str) -> HwgenError:
        return HwgenError(f"no host kernel: {why}", node=node.name, op=node.op.value)

    def _storage(self, tensor: str) -> tuple[npt.NDArray[np.int64], tuple[int, ...]]:
        """Element indices of a tensor's storage laid out in its logical (NCHW) order."""
        shape = self.graph.type_of(tensor).shape
        if len(shape) == 4:
            n, c, h, w = shape
            storage = np.arange(n * h * w * c).reshape(n, h, w, c)
            return storage.transpose(0, 3, 1, 2), (n, h, w, c)
        if len(shape) == 3 and shape[0] == 1:  # [1, C, L]: an image of height 1
            _, c, length = shape
            return np.arange(length * c).reshape(1, length, c).transpose(0, 2, 1), (1, length, c)
        return np.arange(int(np.prod(shape))).reshape(shape), tuple(shape)

    def _concat(self, node: Node) -> dict[str, Any]:
        attrs = node.attrs
        assert isinstance(attrs, ConcatAttrs)
        rank = len(self.graph.type_of(node.outputs[0]).shape)
        position = {1: 3, 2: 1, 3: 2}.get(attrs.axis, attrs.axis) if rank == 4 else attrs.axis
        if rank == 4 and attrs.axis == 0:
            raise self.refuse(node, "concatenation along the batch axis")
        if any(self.graph.is_constant(name) for name in node.inputs):
            raise self.refuse(node, "concatenation with a constant input")
        elem = self.graph.type_of(node.outputs[0]).dtype.numpy.itemsize
        chunks = []
        outer = 1
        for name in node.inputs:
            _, storage = self._storage(name)
            outer = int(np.prod(storage[:position]))
            chunks.append(int(np.prod(storage[position:])) * elem)
        return {"kind": "concat", "outer": outer, "chunks": chunks}

    def _permute(self, node: Node) -> dict[str, Any]:
        """Transpose and Slice: each output element, in the output's storage order, is one of
        the input's at an affine position (offset plus a stride per output axis)."""
        attrs = node.attrs
        source, _ = self._storage(node.inputs[0])
        out_shape = self.graph.type_of(node.outputs[0]).shape
        if isinstance(attrs, TransposeAttrs):
            logical = source.transpose(attrs.perm)
        elif isinstance(attrs, GatherAttrs):
            logical = source.reshape(-1)[attrs.source].reshape(out_shape)
        else:
            assert isinstance(attrs, SliceAttrs)
            logical = source[np.ix_(*[list(attrs.indices(a)) for a in range(source.ndim)])]
        self._check_stored(node, out_shape)
        logical = self._stored_order(logical, out_shape)
        dims, strides = self._affine(logical, 4)
        if isinstance(attrs, GatherAttrs):  # affine in no axis of its own, perhaps in others
            dims, strides = self._factored(node, logical.reshape(-1), 4)
        elem = self.graph.type_of(node.outputs[0]).dtype.numpy.itemsize
        return {
            "kind": "permute",
            "dims": dims,
            "strides": strides,
            "offset": int(logical.reshape(-1)[0]),
            "elem": elem,
        }

    def _factored(
        self, node: Node, flat: npt.NDArray[np.int64], rank: int
    ) -> tuple[list[int], list[int]]:
        """Extents and strides of at most `rank` nested loops that walk `flat` (storage
        positions, in the order they are written), found from the innermost loop out; a table
        no such walk reproduces is refused. A channel shuffle of g groups of C/g channels on
        an H x W image is the walk (H * W, C/g, g) with strides (C, 1, C/g)."""
        n = flat.size
        dims: list[int] = []
        strides: list[int] = []
        inner = 1
        while inner < n and len(dims) < rank:
            stride = int(flat[inner] - flat[0])
            extent = 1
            while inner * (extent + 1) <= n and flat[inner * extent] == flat[0] + extent * stride:
                extent += 1
            while (n // inner) % extent:
                extent -= 1
            dims.insert(0, extent)
            strides.insert(0, stride)
            inner *= extent
        dims = [1] * (rank - len(dims)) + dims
        strides = [0] * (rank - len(strides)) + strides
        walk = int(flat[0]) + sum(
            np.arange(d).reshape((-1,) + (1,) * (rank - 1 - axis)) * s
            for axis, (d, s) in enumerate(zip(dims, strides, strict=True))
        )
        if inner != n or not np.array_equal(np.asarray(walk).reshape(-1), flat):
            raise self.refuse(node, f"a gather that {rank} strided loops do not walk")
        return dims, strides

    def _affine(self, table: npt.NDArray[np.int64], rank: int) -> tuple[list[int], list[int]]:
        """Extents and strides (in elements) of a table of storage positions that is affine in
        each axis, padded in front to `rank` axes."""
        dims = (1,) * (rank - table.ndim) + table.shape
        table = table.reshape(dims)
        origin = int(table.reshape(-1)[0])
        strides = []
        for axis in range(rank):
            step = [0] * rank
            step[axis] = 1
            strides.append(int(table[tuple(step)]) - origin if dims[axis] > 1 else 0)
        return list(dims), strides

    def _stored_order(self, table: npt.NDArray[np.int64], shape: tuple[int, ...]) -> Any:
        """A table over a tensor's logical (NCHW) axes, and any axes after them, with the
        tensor's axes in the order the host C stores them."""
        rest = tuple(range(len(shape), table.ndim))
        if len(shape) == 4:
            return table.transpose(0, 2, 3, 1, *rest)
        if len(shape) == 3 and shape[0] == 1:
            return table.transpose(0, 2, 1, *rest)
        return table

    def _check_stored(self, node: Node, shape: tuple[int, ...]) -> None:
        """Strided walks of storage: images (NHWC; a batch of them with one channel), [1, C, L],
        matrices and batches of matrices only."""
        if len(shape) > 4 or (len(shape) == 4 and shape[0] != 1 and shape[1] != 1):
            raise self.refuse(node, f"{node.op.value} to shape {list(shape)}")

    def _matmul_of_tensors(self, node: Node) -> dict[str, Any]:
        """Each output element, in its storage order, a dot product of a row of A and a
        column of B that start at affine positions and step by a stride each."""
        a, b = (self._storage(t)[0] for t in node.inputs)
        out_shape = self.graph.type_of(node.outputs[0]).shape
        self._check_stored(node, out_shape)
        k = a.shape[-1]
        rows = np.broadcast_to(a[..., :, :1], out_shape)  # A's row starts, by output element
        columns = np.broadcast_to(b[..., :1, :], out_shape)  # B's column starts
        dims, a_strides = self._affine(self._stored_order(rows, out_shape), 4)
        _, b_strides = self._affine(self._stored_order(columns, out_shape), 4)
        a_rows = a.reshape(-1, k)
        b_cols = np.moveaxis(b, -2, -1).reshape(-1, k)
        a_step = int(a_rows[0, 1] - a_rows[0, 0]) if k > 1 else 0
        b_step = int(b_cols[0, 1] - b_cols[0, 0]) if k > 1 else 0
        return {
            "kind": "int_matmul",
            "dims": dims,
            "a_strides": a_strides,
            "b_strides": b_strides,
            "k": k,
            "a_step": a_step,
            "b_step": b_step,
            "a_dtype": C_DTYPE[self.graph.type_of(node.inputs[0]).dtype],
            "b_dtype": C_DTYPE[self.graph.type_of(node.inputs[1]).dtype],
        }

    def _broadcast_mul(self, node: Node) -> dict[str, Any]:
        """QLinearMul: each output element, in its storage order, the product of an element
        of A and one of B, each walked by strides over the output (0 where it broadcasts)."""
        out_shape = self.graph.type_of(node.outputs[0]).shape
        self._check_stored(node, out_shape)
        walks = []
        for tensor in node.inputs:
            source, _ = self._storage(tensor)
            padded = source.reshape((1,) * (len(out_shape) - source.ndim) + source.shape)
            table = np.broadcast_to(padded, out_shape)
            walks.append(self._affine(self._stored_order(table, out_shape), 4))
        (dims, a_strides), (_, b_strides) = walks
        attrs = node.attrs
        assert isinstance(attrs, MulAttrs)
        return {
            "kind": "mul",
            "dims": dims,
            "a_strides": a_strides,
            "b_strides": b_strides,
            "ratio": c_float(attrs.ratio),
            "a_zp": attrs.a_zero_point,
            "b_zp": attrs.b_zero_point,
            "y_zp": attrs.y_zero_point,
            "dtype": C_DTYPE[self.graph.type_of(node.outputs[0]).dtype],
        }

    def _reduce(self, node: Node) -> dict[str, Any]:
        """ReduceSum / ReduceMean: the output in its storage order, each element the sum of a
        box of the input's storage, both walked by strides."""
        attrs = node.attrs
        assert isinstance(attrs, IntReduceAttrs)
        source, _ = self._storage(node.inputs[0])
        kept = [a for a in range(source.ndim) if a not in attrs.axes]
        ordered = source.transpose(*kept, *attrs.axes)
        out_shape = self.graph.type_of(node.outputs[0]).shape
        red_shape = ordered.shape[len(kept) :]
        self._check_stored(node, out_shape)
        table = self._stored_order(ordered.reshape(*out_shape, *red_shape), out_shape)
        stored = len(out_shape)
        first = table.reshape(*table.shape[:stored], -1)[..., 0]
        out_dims, out_strides = self._affine(first, 4)
        inner = table.reshape(-1, *red_shape)[0]
        red_dims, red_strides = self._affine(inner, 4)
        return {
            "kind": "reduce",
            "dims": out_dims,
            "strides": out_strides,
            "red_dims": red_dims,
            "red_strides": red_strides,
            "count": int(np.prod(red_shape)),
            "mean": int(attrs.mean),
            "in_dtype": C_DTYPE[self.graph.type_of(node.inputs[0]).dtype],
            "out_dtype": C_DTYPE[self.graph.type_of(node.outputs[0]).dtype],
        }

    def _pad(self, node: Node, src: TensorLayout, out: TensorLayout) -> dict[str, Any]:
        attrs = node.attrs
        assert isinstance(attrs, PadAttrs)
        pads = attrs.pads
        if len(pads) != 8 or min(pads) < 0 or pads[0] or pads[4]:
            raise self.refuse(node, f"pads {list(pads)} (only non-negative pads of C, H and W)")
        if not src.dtype.is_integer:
            raise self.refuse(node, "padding a float tensor")
        return {
            "kind": "pad",
            "in": src.c_struct(),
            "front": pads[1],
            "top": pads[2],
            "left": pads[3],
            "value": int(attrs.value),
        }

    def _per_channel(self, node: Node) -> bool:
        if node.op is OpKind.REQUANT_SHIFT:
            attrs = node.attrs
            assert isinstance(attrs, ShiftRequantAttrs)
            return attrs.mul.size > 1 or attrs.add.size > 1
        if node.op not in (OpKind.QUANTIZE, OpKind.DEQUANTIZE):
            return False
        tensor = node.outputs[0] if node.op is OpKind.QUANTIZE else node.inputs[0]
        quant = self.graph.type_of(tensor).quant
        return quant is not None and quant.per_channel

    def _host_matmul(self, node: Node) -> dict[str, Any]:
        """A 2-D matrix product with constant weights runs as a 1x1 convolution of a rows x 1
        image (the same kernel, the same requantization)."""
        g = self.graph
        attrs = node.attrs
        assert isinstance(attrs, MatMulAttrs)
        a_shape = g.type_of(node.inputs[0]).shape
        if (
            attrs.output.mode not in (OutputMode.REQUANT, OutputMode.SHIFT, OutputMode.INT32)
            or attrs.trans_a
            or len(a_shape) != 2
            or not g.is_constant(node.inputs[1])
        ):
            raise self.refuse(node, "only 2-D products with constant weights")
        b = g.constants[node.inputs[1]].astype(np.int8)
        w = (b if attrs.trans_b else b.T)[:, None, None, :]  # N, 1, 1, K
        n = w.shape[0]
        bias = np.zeros(n, np.int32)
        if len(node.inputs) > 2:
            bias = g.constants[node.inputs[2]].astype(np.int32).reshape(-1)
            if bias.size != n:
                raise self.refuse(node, "a bias that is not one value per output column")
        out = attrs.output
        lower, upper = out.clamp or (out.dtype.qmin, out.dtype.qmax)
        return {
            "kind": "conv",
            "weights": [int(v) for v in w.reshape(-1)],
            "bias": [int(v) for v in bias],
            "w_zp": [int(v) for v in np.broadcast_to(attrs.w_zero_point, (n,))],
            "multiplier": [c_float(v) for v in np.broadcast_to(out.multiplier, (n,))],
            "k": (1, 1),
            "s": (1, 1),
            "p": (0, 0),
            "d": (1, 1),
            "group": 1,
            "x_zp": attrs.x_zero_point,
            "y_zp": out.zero_point,
            "lower": lower,
            "upper": upper,
            "rows_fn": "rows_conv",
            **self._shift_stage(out, n),
        }

    def _shift_stage(self, out: Requant, channels: int) -> dict[str, Any]:
        """The integer dialects' requantization of a host conv or matmul, when it has one. An
        accumulator kept as the output (ConvInteger, an integer graph's Conv without
        RequantShift) is the identity of that stage: times 1, plus 0, shifted by 0, unclamped."""
        if out.mode is OutputMode.INT32:
            return {
                "shift_mode": 1,
                "shift": 0,
                "mul": [1] * channels,
                "add": [0] * channels,
                "lower": DType.INT32.qmin,
                "upper": DType.INT32.qmax,
            }
        if out.mode is not OutputMode.SHIFT:
            return {"shift_mode": 0, "shift": 0, "mul": [0] * channels, "add": [0] * channels}
        assert out.shift is not None
        rq = out.shift
        return {
            "shift_mode": 1,
            "shift": rq.shift,
            "mul": [int(v) for v in np.broadcast_to(rq.mul, (channels,))],
            "add": [int(v) for v in np.broadcast_to(rq.add, (channels,))],
            "lower": rq.lower,
            "upper": rq.upper,
        }

    def _single(self, tensor: str) -> tuple[str, int]:
        quant = self.graph.type_of(tensor).quant
        if quant is None:  # a plain integer tensor (integer dialects): scale 1, zero point 0
            return c_float(1.0), 0
        return c_float(float(quant.scale[0])), int(quant.zero_point[0])

    def _qparams(self, node: Node) -> dict[str, Any]:
        (xs, xz), (ys, yz) = self._single(node.inputs[0]), self._single(node.outputs[0])
        return {"x_scale": xs, "x_zp": xz, "y_scale": ys, "y_zp": yz}

    def _host_conv(self, node: Node) -> dict[str, Any]:
        g = self.graph
        attrs = node.attrs
        assert isinstance(attrs, ConvAttrs)
        if attrs.output.mode not in (OutputMode.REQUANT, OutputMode.SHIFT, OutputMode.INT32):
            raise self.refuse(node, f"convolution with a {attrs.output.mode.value} output")
        if not g.is_constant(node.inputs[1]):
            raise self.refuse(node, "convolution with runtime weights")
        w = g.constants[node.inputs[1]].astype(np.int8)
        o = w.shape[0]
        bias = (
            g.constants[node.inputs[2]].astype(np.int32)
            if len(node.inputs) > 2
            else np.zeros(o, np.int32)
        )
        out = attrs.output
        lower, upper = out.clamp or (out.dtype.qmin, out.dtype.qmax)
        geom = attrs.geometry
        return {
            "weights": [int(v) for v in w.transpose(0, 2, 3, 1).reshape(-1)],
            "bias": [int(v) for v in bias.reshape(-1)],
            "w_zp": [int(v) for v in np.broadcast_to(attrs.w_zero_point, (o,))],
            "multiplier": [c_float(v) for v in np.broadcast_to(out.multiplier, (o,))],
            "k": geom.kernel,
            "s": geom.strides,
            "p": geom.pads[:2],
            "d": geom.dilations,
            "group": attrs.group,
            "x_zp": attrs.x_zero_point,
            "y_zp": out.zero_point,
            "lower": lower,
            "upper": upper,
            "rows_fn": "rows_conv",
            **self._shift_stage(out, o),
        }


Emitter = Callable[[HostContext, Node, TensorLayout, list[TensorLayout]], HostLayer]


def _quant(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    quantize = node.op is OpKind.QUANTIZE
    qtype = ctx.graph.type_of(node.outputs[0] if quantize else node.inputs[0])
    assert qtype.quant is not None
    per_channel = qtype.quant.per_channel
    if per_channel and qtype.quant.axis != 1:
        raise ctx.refuse(node, f"per-channel axis {qtype.quant.axis} (channel axis 1 only)")
    return HostLayer(
        {
            "scale": [c_float(v) for v in qtype.quant.scale],
            "zero_point": [int(v) for v in qtype.quant.zero_point],
            "per_channel": int(per_channel),
            "rows_fn": f"rows_{node.op.value}",
        },
        Window(),
    )


def _pool(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, PoolAttrs)
    geom = attrs.geometry
    return HostLayer(
        {
            **_pool_fields(geom, attrs.count_include_pad),
            "rows_fn": f"rows_{node.op.value}",
            **ctx._qparams(node),
        },
        Window(geom.kernel[0], geom.strides[0], geom.pads[0], geom.dilations[0]),
    )


def _int_pool(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, IntPoolAttrs)
    geom = attrs.geometry
    if geom.dilations != (1, 1):
        raise ctx.refuse(node, "dilated average pooling")
    return HostLayer(
        {
            **_pool_fields(geom, attrs.count_include_pad),
            "half_up": int(attrs.rounding is PoolRounding.HALF_UP),
            "rows_fn": "rows_int_avgpool",
        },
        Window(geom.kernel[0], geom.strides[0], geom.pads[0], geom.dilations[0]),
    )


def _global_pool(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    """Input rows through L1 a tile at a time, per-channel sums kept in L1 (not a row job)."""
    assert isinstance(node.attrs, GlobalPoolAttrs)
    if node.attrs.channels_last:
        raise ctx.refuse(node, "channels_last global pooling")
    src = ins[0]
    rows = next((r for r in range(src.h, 0, -1) if 4 * src.c + 2 * r * src.row_bytes <= ctx.l1), 0)
    if rows == 0:
        raise HwgenError(
            f"cannot be tiled into L1 = {ctx.l1} bytes", node=node.name, op=node.op.value
        )
    layer = HostLayer({**ctx._qparams(node), "rows_per_tile": rows})
    layer.rows_per_tile = rows
    return layer


def _same_shapes(ctx: HostContext, node: Node) -> None:
    a, b = (ctx.graph.type_of(t) for t in node.inputs)
    if a.shape != b.shape:
        raise ctx.refuse(node, f"broadcasting add {list(a.shape)} + {list(b.shape)}")


def _constant_operand(ctx: HostContext, node: Node) -> tuple[int, list[int]] | None:
    """Which input of an add is constant (a bias after a matrix product, say), and its values
    broadcast to the output and laid out in the output's storage order; None for two
    runtime tensors."""
    constant = [i for i, t in enumerate(node.inputs) if ctx.graph.is_constant(t)]
    if not constant:
        return None
    if len(constant) > 1:
        raise ctx.refuse(node, "an add of two constants")
    (index,) = constant
    logical, shape = ctx._storage(node.outputs[0])
    value = np.broadcast_to(ctx.graph.constants[node.inputs[index]], logical.shape)
    stored = np.empty(int(np.prod(shape)), np.int64)
    stored[logical.reshape(-1)] = value.reshape(-1)
    return index, [int(v) for v in stored]


def _add(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    qa, qb, qy = (ctx._single(t) for t in (*node.inputs, node.outputs[0]))
    scales = {
        "a_scale": qa[0],
        "a_zp": qa[1],
        "b_scale": qb[0],
        "b_zp": qb[1],
        "y_scale": qy[0],
        "y_zp": qy[1],
    }
    constant = _constant_operand(ctx, node)
    if constant is not None:
        index, values = constant
        return HostLayer(
            {
                "kind": "add_const",
                "x": ins[0].c_struct(),
                "constant": values,
                "constant_is_a": int(index == 0),
                **scales,
                "rows_fn": "rows_add_const",
            },
            Window(),
        )
    _same_shapes(ctx, node)
    return HostLayer(
        {"a": ins[0].c_struct(), "b": ins[1].c_struct(), **scales, "rows_fn": "rows_add"},
        Window(),
    )


def _int_add(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    constant = _constant_operand(ctx, node)
    if constant is not None:  # a bias or offset; an integer add is symmetric
        _, addend = constant
        return HostLayer(
            {
                "kind": "int_add_const",
                "a": ins[0].c_struct(),
                "addend": addend,
                "rows_fn": "rows_int_add_const",
            },
            Window(),
        )
    _same_shapes(ctx, node)
    return HostLayer(
        {"a": ins[0].c_struct(), "b": ins[1].c_struct(), "rows_fn": "rows_int_add"}, Window()
    )


def _int_matmul(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    return HostLayer(ctx._matmul_of_tensors(node))


def _int_hardswish(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, IntHardswishAttrs)
    return HostLayer(
        {
            "three": attrs.three,
            "six": attrs.six,
            "one_over_six": attrs.one_over_six,
            "rows_fn": "rows_int_hardswish",
        },
        Window(),
    )


def _lookup(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, LookupAttrs)
    return HostLayer(
        {
            "table": [int(v) for v in attrs.table],
            "qmin": ctx.graph.type_of(node.inputs[0]).dtype.qmin,
            "rows_fn": "rows_lookup",
        },
        Window(),
    )


def _mul(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    if len(ins) != 2:
        raise ctx.refuse(node, "a product with a constant operand")
    return HostLayer(ctx._broadcast_mul(node))


def _softmax_rows(ctx: HostContext, node: Node) -> tuple[int, int]:
    """A softmax's rows and their length: matrices only, whose last axis is contiguous."""
    shape = ctx.graph.type_of(node.inputs[0]).shape
    if len(shape) != 2:
        raise ctx.refuse(node, f"softmax of a tensor of shape {list(shape)}")
    return shape[0], shape[1]


def _softmax(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, SoftmaxAttrs)
    rows, length = _softmax_rows(ctx, node)
    return HostLayer(
        {
            "kind": "softmax",
            "rows": rows,
            "length": length,
            "table": [c_float(float(v)) for v in attrs.table],
            "scale": c_float(attrs.scale),
            "y_zp": attrs.y_zero_point,
            "dtype": C_DTYPE[ctx.graph.type_of(node.inputs[0]).dtype],
        }
    )


def _arith(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, ArithAttrs)
    steps = []
    for step in attrs.steps:
        values = [] if step.operand is None else np.asarray(step.operand).reshape(-1).tolist()
        floats = step.container is DType.FLOAT32
        steps.append(
            {
                "kind": list(ArithKind).index(step.kind),
                "container": C_DTYPE[step.container],
                "count": len(values),
                "operand_first": int(step.operand_first),
                "f": [c_float(float(v)) for v in values] if floats else [],
                "i": [f"INT64_C({int(v)})" for v in values] if not floats else [],
            }
        )
    second = ins[1].c_struct() if len(ins) > 1 else {**ins[0].c_struct(), "c": 0}
    return HostLayer({"a": ins[0].c_struct(), "b": second, "steps": steps})


def _float_softmax(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, FloatSoftmaxAttrs)
    rows, length = _softmax_rows(ctx, node)
    return HostLayer(
        {
            "rows": rows,
            "length": length,
            "log": int(attrs.log),
            "dtype": C_DTYPE[ins[0].dtype],
        }
    )


def _resize(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, ResizeAttrs)
    fixed = attrs.kind is ResizeKind.LINEAR_FIXED
    floats = attrs.kind in (ResizeKind.LINEAR_FLOAT, ResizeKind.LINEAR_FLOAT_WC)
    return HostLayer(
        {
            "resize_kind": list(ResizeKind).index(attrs.kind),
            "rows": [int(v) for v in attrs.rows.reshape(-1)],
            "cols": [int(v) for v in attrs.cols.reshape(-1)],
            "row_wf": [c_float(float(v)) for v in attrs.row_weights.reshape(-1)] if floats else [],
            "col_wf": [c_float(float(v)) for v in attrs.col_weights.reshape(-1)] if floats else [],
            "row_wi": [int(v) for v in attrs.row_weights.reshape(-1)] if fixed else [],
            "col_wi": [int(v) for v in attrs.col_weights.reshape(-1)] if fixed else [],
        }
    )


def _cast(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    return HostLayer({"rows_fn": "rows_cast"}, Window())


def _requant_shift(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, ShiftRequantAttrs)
    rank = len(ctx.graph.type_of(node.inputs[0]).shape)
    per_row = attrs.axis == 0 and rank == 2 and ctx._per_channel(node)
    if attrs.axis != 1 and not per_row:
        raise ctx.refuse(node, f"requantization along axis {attrs.axis}")
    return HostLayer(
        {
            "mul": [int(v) for v in attrs.mul],
            "add": [int(v) for v in attrs.add],
            # 1: one value per channel (the last stored axis); 2: per row of a matrix
            "per_channel": 2 if per_row else int(ctx._per_channel(node)),
            "shift": attrs.shift,
            "lower": attrs.lower,
            "upper": attrs.upper,
            "rows_fn": "rows_requant_shift",
        },
        Window(),
    )


def _clamp(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    assert isinstance(node.attrs, ClampAttrs)
    return HostLayer(
        {"lower": node.attrs.lower, "upper": node.attrs.upper, "rows_fn": "rows_clamp"}, Window()
    )


def _matmul(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    return HostLayer({**ctx._host_matmul(node), "kind": "conv"}, Window())


def _conv(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, ConvAttrs)
    geom = attrs.geometry
    return HostLayer(
        {**ctx._host_conv(node), "pad_top": geom.pads[0]},
        Window(geom.kernel[0], geom.strides[0], geom.pads[0], geom.dilations[0]),
    )


def _reshape(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    source = ctx.graph.type_of(node.inputs[0]).shape
    if (out.h, out.w, out.c) == (ins[0].h, ins[0].w, ins[0].c):  # [1, C, L] <-> [1, C, 1, L]
        return HostLayer({"kind": "copy", "bytes": out.bytes})
    if len(source) == 3 or (len(source) == 4 and source[2] * source[3] > 1):
        return HostLayer({"kind": "flatten", "in": ins[0].c_struct()})
    return HostLayer({"kind": "copy", "bytes": out.bytes})


def _concat(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    return HostLayer(ctx._concat(node))


def _int_reduce(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    return HostLayer(ctx._reduce(node))


def _transpose(
    ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]
) -> HostLayer:
    return HostLayer(ctx._permute(node))


def _pad(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    return HostLayer(ctx._pad(node, ins[0], out))


def _im2col(ctx: HostContext, node: Node, out: TensorLayout, ins: list[TensorLayout]) -> HostLayer:
    attrs = node.attrs
    assert isinstance(attrs, Im2ColAttrs)
    if ins[0].dtype.numpy.itemsize != 1:
        raise ctx.refuse(node, f"im2col of {ins[0].dtype.value} elements (one byte only)")
    geom = attrs.geometry
    return HostLayer(
        {
            "kind": "im2col",
            "in": ins[0].c_struct(),
            "k": geom.kernel,
            "s": geom.strides,
            "p": geom.pads[:2],
            "d": geom.dilations,
            "value": attrs.pad_value,
        }
    )


EMITTERS: dict[OpKind, Emitter] = {
    OpKind.QUANTIZE: _quant,
    OpKind.DEQUANTIZE: _quant,
    OpKind.MAXPOOL: _pool,
    OpKind.AVGPOOL: _pool,
    OpKind.INT_AVGPOOL: _int_pool,
    OpKind.GLOBAL_AVGPOOL: _global_pool,
    OpKind.ADD: _add,
    OpKind.INT_ADD: _int_add,
    OpKind.CAST: _cast,
    OpKind.REQUANT_SHIFT: _requant_shift,
    OpKind.CLAMP: _clamp,
    OpKind.MATMUL: _matmul,
    OpKind.CONV: _conv,
    OpKind.RESHAPE: _reshape,
    OpKind.CONCAT: _concat,
    OpKind.TRANSPOSE: _transpose,
    OpKind.SLICE: _transpose,
    OpKind.INT_REDUCE: _int_reduce,
    OpKind.INT_HARDSWISH: _int_hardswish,
    OpKind.LOOKUP: _lookup,
    OpKind.MUL: _mul,
    OpKind.SOFTMAX: _softmax,
    OpKind.RESIZE: _resize,
    OpKind.ARITH: _arith,
    OpKind.FLOAT_SOFTMAX: _float_softmax,
    OpKind.GATHER: _transpose,
    OpKind.INT_MATMUL: _int_matmul,
    OpKind.PAD: _pad,
    OpKind.IM2COL: _im2col,
}
# Element-wise layers tile any way: as rows of one element (one pixel's channels where their
# parameters are per channel), so that they tile finely whatever their shape.
ELEMENTWISE = {
    OpKind.QUANTIZE,
    OpKind.DEQUANTIZE,
    OpKind.ADD,
    OpKind.CLAMP,
    OpKind.CAST,
    OpKind.INT_ADD,
    OpKind.INT_HARDSWISH,
    OpKind.REQUANT_SHIFT,
    OpKind.LOOKUP,
}


def host_layer(ctx: HostContext, node: Node) -> HostLayer:
    """The node's kernel, its fields and its tiling."""
    graph = ctx.graph
    batched = [
        t
        for t in (*node.inputs, *node.outputs)
        if not graph.is_constant(t)
        and len(graph.type_of(t).shape) == 4
        and graph.type_of(t).shape[0] > 1
    ]
    if batched and node.op not in (*ELEMENTWISE, OpKind.INT_MATMUL):
        batch = graph.type_of(batched[0]).shape[0]
        raise ctx.refuse(node, f"a batch of {batch} images (element-wise ops and products only)")
    out = ctx.layout(node.outputs[0], node)
    ins = [ctx.layout(t, node) for t in node.inputs if not graph.is_constant(t)]
    if node.op in ELEMENTWISE:
        per_row = out.c if ctx._per_channel(node) else 1
        out = out.rows_of(per_row)
        ins = [t.rows_of(per_row) for t in ins]
    emitter = EMITTERS.get(node.op)
    if emitter is None:
        raise ctx.refuse(node, f"{node.op.value} has no host kernel yet")
    layer = emitter(ctx, node, out, ins)
    layer.fields = {"kind": node.op.value, "out": out.c_struct(), **layer.fields}
    layer.fields.setdefault("in", ins[0].c_struct() if ins else out.c_struct())
    layer.inputs = ins
    if layer.window is not None:
        rows = rows_per_tile(node, out, ins, layer.window, ctx.l1)
        layer.rows_per_tile = rows
        layer.row_elements = out.w * out.c
        layer.fields["job"] = {
            "inputs": [t.c_struct() for t in ins],
            "tiling": {
                "rows_per_tile": rows,
                "kernel_h": layer.window.kernel,
                "stride_h": layer.window.stride,
                "pad_top": layer.window.pad_top,
                "dilation_h": layer.window.dilation,
            },
        }
    else:
        layer.fields["job"] = None
    return layer
