"""The host C of a compiled network: layer tables, constants, the schedule and npu_config.h,
rendered from sw/templates with every number computed here; the runtime in sw/ is copied
beside them so that the output directory builds on its own."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen import __version__
from hwgen.codegen.c_abi import CNetwork, LayerC, TensorLayout
from hwgen.compiler import Compilation
from hwgen.errors import HwgenError
from hwgen.ir import (
    ClampAttrs,
    ConcatAttrs,
    ConvAttrs,
    GlobalPoolAttrs,
    Graph,
    IntPoolAttrs,
    MatMulAttrs,
    Node,
    OpKind,
    OutputMode,
    PadAttrs,
    PoolAttrs,
    PoolRounding,
    Requant,
    ShiftRequantAttrs,
    Target,
    TransposeAttrs,
)
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.npu import csr
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import param_layout
from hwgen.npu.dma import beats
from hwgen.npu.words import pack
from hwgen.passes.npu_plan import NpuLayerPlan
from hwgen.resources import c_runtime, c_templates
from hwgen.templating import Flavour, environment

RUNTIME = [
    "hal.h",
    "hal_callbacks.c",
    "hal_callbacks.h",
    "kernels.c",
    "kernels.h",
    "layers.h",
    "npu.c",
    "npu.h",
    "tiling.c",
    "tiling.h",
]
ELEMENTWISE = (
    OpKind.QUANTIZE,
    OpKind.DEQUANTIZE,
    OpKind.ADD,
    OpKind.CLAMP,
    OpKind.CAST,
    OpKind.INT_ADD,
    OpKind.REQUANT_SHIFT,
)


def _pool_fields(geom: Conv2dGeometry, count_include_pad: bool) -> dict[str, Any]:
    return {
        "k": geom.kernel,
        "s": geom.strides,
        "p": geom.pads[:2],
        "d": geom.dilations,
        "pad_top": geom.pads[0],
        "count_include_pad": int(count_include_pad),
    }


def c_float(value: float) -> str:
    """An exact float32 literal (C99 hexadecimal)."""
    return float(np.float32(value)).hex() + "f"


def _rows_per_tile(
    node: Node, out: TensorLayout, ins: list[TensorLayout], window: tuple[int, int, int], l1: int
) -> int:
    """The most output rows whose double-buffered inputs and output fit L1 (sw/tiling.c)."""
    kernel, stride, dilation = window
    for rows in range(out.h, 0, -1):
        in_rows = (rows - 1) * stride + dilation * (kernel - 1) + 1
        need = rows * out.row_bytes + sum(2 * in_rows * t.row_bytes for t in ins)
        if need <= l1:
            return rows
    need = out.row_bytes + sum(2 * (dilation * (kernel - 1) + 1) * t.row_bytes for t in ins)
    raise HwgenError(
        f"cannot be tiled into L1 = {l1} bytes: one output row needs {need} bytes (raise --l1)",
        node=node.name,
        op=node.op.value,
    )


class _Emitter:
    def __init__(self, comp: Compilation, l2: dict[str, int]) -> None:
        self.comp = comp
        self.graph: Graph = comp.graph
        self.l1 = comp.options.l1
        self.l2 = l2
        assert comp.npu is not None
        self.plans: dict[str, NpuLayerPlan] = {p.node: p for p in comp.npu.layers}

    def layout(self, tensor: str, node: Node) -> TensorLayout:
        try:
            return TensorLayout.of(self.graph.type_of(tensor), f"node '{node.name}'")
        except HwgenError as exc:
            raise HwgenError(exc.reason) from None

    def refuse(self, node: Node, why: str) -> HwgenError:
        return HwgenError(f"no host kernel: {why}", node=node.name, op=node.op.value)

    def layer(self, node: Node) -> tuple[dict[str, Any], int, int]:
        """The template's view of a node, its tile height (0 when untiled) and the elements
        of one tiling row."""
        g = self.graph
        out = self.layout(node.outputs[0], node)
        ins = [self.layout(t, node) for t in node.inputs if not g.is_constant(t)]
        entry: dict[str, Any] = {
            "name": node.name,
            "kind": node.op.value,
            "out": out.c_struct(),
            "in_offsets": [self.l2[t] for t in node.inputs if not g.is_constant(t)],
            "out_offset": self.l2[node.outputs[0]],
            "out_bytes": out.bytes,
            "job": None,
        }
        window = (1, 1, 1)
        if node.op in ELEMENTWISE and node.target is Target.HOST:
            # Rows of one element (one pixel's channels where the parameters are per channel)
            # let element-wise layers tile finely whatever their shape.
            per_row = out.c if self._per_channel(node) else 1
            out = out.rows_of(per_row)
            ins = [t.rows_of(per_row) for t in ins]
            entry["out"] = out.c_struct()
        if node.target is Target.NPU:
            plan = self.plans[node.name]
            entry.update(
                kind="npu",
                descriptor=[f"{v & 0xFFFFFFFF}u" for v in plan.command.as_dict().values()],
                **{"in": ins[0].c_struct()},
                cin_blocks=plan.command.cin_blocks,
                cout_blocks=plan.command.cout_blocks,
                pad_value=plan.command.pad_value,
                flip_sign=int(plan.layer.flip_sign),
            )
            return entry, 0, 0
        op = node.op
        if op in (OpKind.QUANTIZE, OpKind.DEQUANTIZE):
            qtype = g.type_of(node.outputs[0] if op is OpKind.QUANTIZE else node.inputs[0])
            assert qtype.quant is not None
            per_channel = qtype.quant.per_channel
            if per_channel and qtype.quant.axis != 1:
                raise self.refuse(
                    node, f"per-channel axis {qtype.quant.axis} (channel axis 1 only)"
                )
            entry.update(
                scale=[c_float(v) for v in qtype.quant.scale],
                zero_point=[int(v) for v in qtype.quant.zero_point],
                per_channel=int(per_channel),
                rows_fn=f"rows_{op.value}",
            )
        elif op in (OpKind.MAXPOOL, OpKind.AVGPOOL):
            attrs = node.attrs
            assert isinstance(attrs, PoolAttrs)
            geom = attrs.geometry
            entry.update(
                _pool_fields(geom, attrs.count_include_pad),
                rows_fn=f"rows_{op.value}",
                **self._qparams(node),
            )
            window = (geom.kernel[0], geom.strides[0], geom.dilations[0])
        elif op is OpKind.INT_AVGPOOL:
            attrs = node.attrs
            assert isinstance(attrs, IntPoolAttrs)
            geom = attrs.geometry
            if geom.dilations != (1, 1):
                raise self.refuse(node, "dilated average pooling")
            entry.update(
                _pool_fields(geom, attrs.count_include_pad),
                half_up=int(attrs.rounding is PoolRounding.HALF_UP),
                rows_fn="rows_int_avgpool",
            )
            window = (geom.kernel[0], geom.strides[0], geom.dilations[0])
        elif op is OpKind.GLOBAL_AVGPOOL:
            assert isinstance(node.attrs, GlobalPoolAttrs)
            if node.attrs.channels_last:
                raise self.refuse(node, "channels_last global pooling")
            entry.update(self._qparams(node))
            entry["in"] = ins[0].c_struct()
            src = ins[0]
            rows = next(
                (r for r in range(src.h, 0, -1) if 4 * src.c + 2 * r * src.row_bytes <= self.l1), 0
            )
            if rows == 0:
                raise HwgenError(
                    f"cannot be tiled into L1 = {self.l1} bytes", node=node.name, op=op.value
                )
            entry["rows_per_tile"] = rows
            return entry, rows, 0
        elif op is OpKind.ADD:
            a, b = (g.type_of(t) for t in node.inputs)
            if a.shape != b.shape:
                raise self.refuse(node, f"broadcasting add {list(a.shape)} + {list(b.shape)}")
            qa, qb, qy = (self._single(t) for t in (*node.inputs, node.outputs[0]))
            entry.update(
                a=ins[0].c_struct(),
                b=ins[1].c_struct(),
                a_scale=qa[0],
                a_zp=qa[1],
                b_scale=qb[0],
                b_zp=qb[1],
                y_scale=qy[0],
                y_zp=qy[1],
                rows_fn="rows_add",
            )
        elif op is OpKind.CAST:
            entry.update(rows_fn="rows_cast")
        elif op is OpKind.INT_ADD:
            a, b = (g.type_of(t) for t in node.inputs)
            if a.shape != b.shape:
                raise self.refuse(node, f"broadcasting add {list(a.shape)} + {list(b.shape)}")
            entry.update(
                kind="int_add", a=ins[0].c_struct(), b=ins[1].c_struct(), rows_fn="rows_int_add"
            )
        elif op is OpKind.REQUANT_SHIFT:
            attrs = node.attrs
            assert isinstance(attrs, ShiftRequantAttrs)
            if attrs.axis != 1:
                raise self.refuse(node, f"requantization along axis {attrs.axis}")
            entry.update(
                mul=[int(v) for v in attrs.mul],
                add=[int(v) for v in attrs.add],
                per_channel=int(self._per_channel(node)),
                shift=attrs.shift,
                lower=attrs.lower,
                upper=attrs.upper,
                rows_fn="rows_requant_shift",
            )
        elif op is OpKind.CLAMP:
            assert isinstance(node.attrs, ClampAttrs)
            entry.update(lower=node.attrs.lower, upper=node.attrs.upper, rows_fn="rows_clamp")
        elif op is OpKind.MATMUL:
            entry.update(self._host_matmul(node))
        elif op is OpKind.CONV:
            entry.update(self._host_conv(node))
            attrs = node.attrs
            assert isinstance(attrs, ConvAttrs)
            window = (
                attrs.geometry.kernel[0],
                attrs.geometry.strides[0],
                attrs.geometry.dilations[0],
            )
            entry["pad_top"] = attrs.geometry.pads[0]
        elif op is OpKind.RESHAPE:
            source_type = g.type_of(node.inputs[0])
            if len(source_type.shape) == 4 and source_type.shape[2] * source_type.shape[3] > 1:
                entry.update(kind="flatten", **{"in": ins[0].c_struct()})
            else:
                entry.update(kind="copy", bytes=out.bytes)
            return entry, 0, 0
        elif op is OpKind.CONCAT:
            entry.update(self._concat(node))
            return entry, 0, 0
        elif op is OpKind.TRANSPOSE:
            entry.update(self._permute(node))
            return entry, 0, 0
        elif op is OpKind.PAD:
            entry.update(self._pad(node, ins[0], out))
            return entry, 0, 0
        else:
            raise self.refuse(node, f"{op.value} has no host kernel yet")
        if "in" not in entry:
            entry["in"] = ins[0].c_struct()
        rows = _rows_per_tile(node, out, ins, window, self.l1)
        entry["job"] = {
            "inputs": [t.c_struct() for t in ins],
            "tiling": {
                "rows_per_tile": rows,
                "kernel_h": window[0],
                "stride_h": window[1],
                "pad_top": entry.get("pad_top", 0),
                "dilation_h": window[2],
            },
        }
        return entry, rows, out.w * out.c

    def _storage(self, tensor: str) -> tuple[npt.NDArray[np.int64], tuple[int, ...]]:
        """Element indices of a tensor's storage laid out in its logical (NCHW) order."""
        shape = self.graph.type_of(tensor).shape
        if len(shape) == 4:
            n, c, h, w = shape
            storage = np.arange(n * h * w * c).reshape(n, h, w, c)
            return storage.transpose(0, 3, 1, 2), (n, h, w, c)
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
        attrs = node.attrs
        assert isinstance(attrs, TransposeAttrs)
        source, _ = self._storage(node.inputs[0])
        logical = source.transpose(attrs.perm)
        out_shape = self.graph.type_of(node.outputs[0]).shape
        if len(out_shape) == 4:  # output stored NHWC
            logical = logical.transpose(0, 2, 3, 1)
        elif len(out_shape) != 2:
            raise self.refuse(node, f"transpose to rank {len(out_shape)}")
        dims = (1,) * (4 - logical.ndim) + logical.shape
        table = logical.reshape(dims)
        strides = []
        for axis in range(4):
            step = [0, 0, 0, 0]
            step[axis] = 1
            strides.append(int(table[tuple(step)] - table[0, 0, 0, 0]) if dims[axis] > 1 else 0)
        elem = self.graph.type_of(node.outputs[0]).dtype.numpy.itemsize
        return {"kind": "permute", "dims": list(dims), "strides": strides, "elem": elem}

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
            attrs.output.mode is not OutputMode.REQUANT
            or attrs.trans_a
            or len(a_shape) != 2
            or not g.is_constant(node.inputs[1])
        ):
            raise self.refuse(node, "only 2-D, requantized products with constant weights")
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
        """The integer dialects' requantization of a host conv or matmul, when it has one."""
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
        if attrs.output.mode not in (OutputMode.REQUANT, OutputMode.SHIFT):
            raise self.refuse(node, "convolution without requantization (ConvInteger)")
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


def _npu_words(comp: Compilation) -> tuple[list[int], list[int], int, int]:
    """The NPU's weight blocks and parameter words as the data port takes them."""
    assert comp.npu is not None
    config = comp.npu.config
    m = config.array
    block_bytes = beats(8 * m * m, config.data_width) * config.data_width // 8
    param_bytes = beats(param_layout(config).size, config.data_width) * config.data_width // 8
    weights = bytearray()
    for block in comp.npu.weight_blocks:
        weights += block.astype(np.int8).tobytes().ljust(block_bytes, b"\0")
    params = bytearray()
    layout = param_layout(config)
    for plan in comp.npu.layers:
        from hwgen.npu.program import channel_parameters

        bias, fields = channel_parameters(plan.layer, m)
        for ch in range(bias.size):
            word = pack(
                layout,
                {"bias": int(bias[ch]), "params": {k: int(v[ch]) for k, v in fields.items()}},
            )
            params += word.to_bytes(param_bytes, "little")
    return list(weights), list(params), len(comp.npu.weight_blocks), len(params) // param_bytes


def npu_config_values(config: NpuConfig) -> dict[str, Any]:
    dw = config.data_width
    return {
        "array": config.array,
        "magic": csr.MAGIC,
        "descriptor_fields": len(csr.DESCRIPTOR_FIELDS),
        "act_word_bytes": beats(8 * config.array, dw) * dw // 8,
        "block_bytes": beats(8 * config.array**2, dw) * dw // 8,
        "param_bytes": beats(param_layout(config).size, dw) * dw // 8,
        "registers": [(reg.name, int(reg)) for reg in csr.Reg],
        "hw_config": csr.HwConfig.of(config).word,
        "hw_config_text": csr.HwConfig.of(config).describe(),
        "constants": [
            *((f"DMA_{target.name}", int(target)) for target in csr.DmaTarget),
            ("CTRL_START", csr.CTRL_START),
            ("CTRL_IRQ_ENABLE", csr.CTRL_IRQ_ENABLE),
            ("STATUS_BUSY", csr.STATUS_BUSY),
            ("STATUS_DONE", csr.STATUS_DONE),
            ("STATUS_ERROR_SHIFT", csr.STATUS_ERROR_SHIFT),
            ("DMA_READ", csr.DMA_READ),
        ],
    }


def generate_c(comp: Compilation, directory: Path) -> CNetwork:
    assert comp.npu is not None and comp.memory is not None
    directory.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME:
        shutil.copyfile(c_runtime() / name, directory / name)
    l2 = {a.tensor: a.offset for a in comp.memory.allocations}
    emitter = _Emitter(comp, l2)
    network = CNetwork(directory)
    layers = []
    for index, node in enumerate(comp.graph.nodes):
        entry, rows, row_elements = emitter.layer(node)
        layers.append(entry)
        network.layers.append(
            LayerC(
                index,
                node.name,
                node.outputs[0],
                emitter.layout(node.outputs[0], node),
                rows,
                row_elements,
            )
        )
    graph = comp.graph
    for names, target in ((graph.inputs, network.inputs), (graph.outputs, network.outputs)):
        for name in names:
            target.append((name, TensorLayout.of(graph.type_of(name), f"graph tensor '{name}'")))
    weights, params, weight_words, param_words = _npu_words(comp)
    banner = f"Generated by hwgen {__version__}; do not edit."
    env = environment(c_templates(), Flavour.C)
    values = {
        "banner": banner,
        "layers": layers,
        "uses_l1": any(
            entry["job"] or entry["kind"] in ("npu", "global_avgpool") for entry in layers
        ),
        "l1_bytes": comp.options.l1,
        "l2_bytes": max(comp.memory.peak, 16),
        "inputs": [{"offset": l2[n], "bytes": t.bytes} for n, t in network.inputs],
        "outputs": [{"offset": l2[n], "bytes": t.bytes} for n, t in network.outputs],
        "npu_weights": weights,
        "npu_params": params,
        "npu_weight_words": weight_words,
        "npu_param_words": param_words,
    }
    for template, filename in (("network.c.j2", "network.c"), ("network.h.j2", "network.h")):
        (directory / filename).write_text(env.get_template(template).render(values))
    (directory / "npu_config.h").write_text(
        env.get_template("npu_config.h.j2").render(
            banner=banner, **npu_config_values(comp.npu.config)
        )
    )
    network.save()
    return network
