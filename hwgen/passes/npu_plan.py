"""The NPU's share of a placed graph: each NPU node as a layer shape and a ConvLayer (weights,
parameters), the NpuConfig the budget gives for them (the single source for the RTL, the C
header, the cycle model and the report), and each layer's tiling, chosen by an exact search to
take the fewest cycles, transfers included."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwgen.errors import HwgenError
from hwgen.ir import ConvAttrs, DType, Graph, MatMulAttrs, Node, OpKind, OutputMode, Target
from hwgen.ir.analysis import macs
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.npu.budget import BUFFERS, Budget, config_for, kib_for, word_bytes
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.program import ConvLayer
from hwgen.npu.tile_search import (
    BufferTooSmall,
    Choice,
    LayerProfile,
    best_tiling,
    layer_profile,
    minimum_depths,
)
from hwgen.npu.tiling import LayerShape, Tiling
from hwgen.passes.placement import network_mode

NAME = "plan_npu"


@dataclass
class NpuLayerPlan:
    node: str
    layer: ConvLayer
    shape: LayerShape
    tiling: Tiling
    profile: LayerProfile  # the cycle model's, transfers included
    macs: int
    array: int

    @property
    def cycles(self) -> int:
        return self.profile.cycles

    @property
    def utilization(self) -> float:
        """MACs of the layer over the array's peak during its cycles."""
        return self.macs / (self.cycles * self.array**2)


@dataclass
class NpuPlan:
    config: NpuConfig
    budget: Budget
    layers: list[NpuLayerPlan] = field(default_factory=list)

    @property
    def weight_bytes(self) -> int:
        """The weights of every NPU layer, as int8."""
        return sum(int(p.layer.weights.size) for p in self.layers)


def conv_layer(graph: Graph, node: Node) -> tuple[ConvLayer, tuple[int, int]]:
    """A conv or matmul node as the NPU sees it (a matmul is a 1x1 convolution of a
    rows x 1 image)."""
    attrs = node.attrs
    assert isinstance(attrs, ConvAttrs | MatMulAttrs)
    out = attrs.output
    dtype = out.dtype
    lower, upper = out.clamp or (dtype.qmin, dtype.qmax)
    weights = graph.constants[node.inputs[1]].astype(np.int8)
    if isinstance(attrs, ConvAttrs):
        geometry = attrs.geometry
        x_shape = graph.type_of(node.inputs[0]).shape
        in_hw = (x_shape[2], x_shape[3])
    else:
        b = weights.T if not attrs.trans_b else weights  # (N, K)
        weights = np.ascontiguousarray(b)[:, :, None, None]
        geometry = Conv2dGeometry((1, 1))
        in_hw = (graph.type_of(node.inputs[0]).shape[0], 1)
    o = weights.shape[0]
    bias = np.zeros(o, np.int32)
    if len(node.inputs) > 2:
        bias = graph.constants[node.inputs[2]].reshape(-1).astype(np.int32)
    flip = graph.type_of(node.inputs[0]).dtype is DType.UINT8
    layer = ConvLayer(
        weights,
        bias,
        attrs.x_zero_point - (128 if flip else 0),
        out.multiplier,
        out.zero_point,
        geometry,
        lower,
        upper,
        flip,
        out.shift,
    )
    return layer, in_hw


def layer_shape(layer: ConvLayer, in_hw: tuple[int, int], array: int) -> LayerShape:
    o, c, kh, kw = layer.weights.shape
    geom = layer.geometry
    oh, ow = geom.output_size(*in_hw)
    return LayerShape(
        in_hw[0],
        in_hw[1],
        -(-c // array),
        oh,
        ow,
        -(-o // array),
        (kh, kw),
        geom.strides,
        (geom.pads[0], geom.pads[1]),
        geom.dilations,
        layer.x_zero_point,
    )


def _too_small(node: Node, shape: LayerShape, config: NpuConfig, needs: dict[str, int]) -> str:
    """What one tile of the layer needs of each buffer short of it, per bank, and the budget
    that would do."""
    what = {
        "act_depth": f"the input of one output pixel ({shape.span(0, 1)}x{shape.span(1, 1)} "
        f"taps over {shape.cin_blocks * config.array} channels)",
        "weight_depth": f"the weights of one block of {config.array} output channels "
        f"({shape.kernel[0]}x{shape.kernel[1]} over {shape.cin_blocks * config.array} channels)",
        "out_depth": "one output vector",
        "param_depth": f"the parameters of {config.array} channels",
    }
    parts = []
    for name, depth in needs.items():
        _, flag = BUFFERS[name]
        size = word_bytes(config, name)
        parts.append(
            f"{what[name]} take {depth * size:,} bytes per bank, where the budget gives "
            f"{getattr(config, name) * size:,}; the smallest that would do is "
            f"{flag} {kib_for(config, name, depth):g}"
        )
    return "cannot be tiled into the NPU's buffers: " + "; ".join(parts)


def apply(graph: Graph, budget: Budget) -> NpuPlan:
    mode = RequantMode.SHIFT if network_mode(graph) is OutputMode.SHIFT else RequantMode.ORT
    array = budget.array
    staged: list[tuple[Node, ConvLayer, LayerShape]] = []
    for node in graph.nodes:
        if node.target is Target.NPU:
            assert node.op in (OpKind.CONV, OpKind.MATMUL)
            layer, in_hw = conv_layer(graph, node)
            staged.append((node, layer, layer_shape(layer, in_hw, array)))
    config = config_for(budget, [shape for _, _, shape in staged], mode)
    plan = NpuPlan(config, budget)
    for node, layer, shape in staged:
        try:
            choice: Choice = best_tiling(shape, config)
        except BufferTooSmall as exc:
            raise HwgenError(
                _too_small(node, shape, config, exc.needs), node=node.name, op=node.op.value
            ) from None
        profile = layer_profile(shape, choice.tiling, config)
        assert profile.cycles == choice.cycles
        plan.layers.append(
            NpuLayerPlan(
                node.name,
                layer,
                shape,
                choice.tiling,
                profile,
                macs(graph, node),
                array,
            )
        )
    return plan


def minimum_budget(shape: LayerShape, config: NpuConfig) -> dict[str, int]:
    return minimum_depths(shape, config)
