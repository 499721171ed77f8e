"""The NPU's share of a placed graph: each NPU node as a ConvLayer with its command, and the
NpuConfig derived from them (the single source for RTL, C header, cycle model and report)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwgen.ir import ConvAttrs, DType, Graph, MatMulAttrs, Node, OpKind, OutputMode, Target
from hwgen.ir.analysis import macs
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.program import ConvLayer, conv_command, weight_blocks
from hwgen.passes.placement import network_mode
from hwgen.sim_models.npu import ConvCommand, cycles

NAME = "plan_npu"


@dataclass
class NpuLayerPlan:
    node: str
    layer: ConvLayer
    in_hw: tuple[int, int]
    command: ConvCommand
    macs: int
    cycles: int
    array: int

    @property
    def utilization(self) -> float:
        """MACs of the layer over the array's peak during its cycles."""
        return self.macs / (self.cycles * self.array**2)


@dataclass
class NpuPlan:
    config: NpuConfig
    layers: list[NpuLayerPlan] = field(default_factory=list)
    weight_blocks: list[np.ndarray] = field(default_factory=list)

    @property
    def weight_bytes(self) -> int:
        return sum(int(b.size) for b in self.weight_blocks)


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


def apply(graph: Graph, array: int, requant_interval: int = 1) -> NpuPlan:
    mode = RequantMode.SHIFT if network_mode(graph) is OutputMode.SHIFT else RequantMode.ORT
    npu_nodes = [n for n in graph.nodes if n.target is Target.NPU]
    staged: list[tuple[Node, ConvLayer, tuple[int, int]]] = []
    for node in npu_nodes:
        assert node.op in (OpKind.CONV, OpKind.MATMUL)
        layer, in_hw = conv_layer(graph, node)
        staged.append((node, layer, in_hw))
    weight_base = param_base = 0
    blocks: list[np.ndarray] = []
    commands: list[ConvCommand] = []
    for _, layer, in_hw in staged:
        cmd = conv_command(layer, in_hw, array, weight_base=weight_base, param_base=param_base)
        layer_blocks = weight_blocks(layer, array)
        blocks.extend(layer_blocks)
        weight_base += len(layer_blocks)
        param_base += cmd.cout_blocks * array
        commands.append(cmd)
    config = derive_config(commands, array, weight_base, param_base, mode, requant_interval)
    plan = NpuPlan(config, weight_blocks=blocks)
    for (node, layer, in_hw), cmd in zip(staged, commands, strict=True):
        plan.layers.append(
            NpuLayerPlan(
                node.name,
                layer,
                in_hw,
                cmd,
                macs(graph, node),
                cycles(cmd, config),
                array,
            )
        )
    return plan


def derive_config(
    commands: list[ConvCommand],
    array: int,
    weight_blocks_total: int,
    channels_total: int,
    mode: RequantMode = RequantMode.ORT,
    requant_interval: int = 1,
) -> NpuConfig:
    """Memories sized for the largest layer (activations, outputs) and for every layer's
    weights and parameters at once."""
    max_reduction = max((c.reduction_blocks * array for c in commands), default=array)
    act = max((c.in_h * c.in_w * c.cin_blocks for c in commands), default=1)
    out = max((c.rows for c in commands), default=1)
    weight_depth = max(2, 1 << max(weight_blocks_total - 1, 1).bit_length())
    return NpuConfig(
        array=array,
        max_reduction=max_reduction,
        weight_depth=weight_depth,
        act_depth=max(act, -(-max_reduction // array)),
        out_depth=out,
        param_depth=max(channels_total, array),
        requant=mode,
        requant_interval=requant_interval,
    )
