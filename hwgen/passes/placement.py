"""Placement: each node to the NPU or the host, with the reason recorded (one explicit pass,
as FINN's dataflow partitioning)."""

from __future__ import annotations

from collections.abc import Mapping

from hwgen.errors import HwgenError
from hwgen.ir import ConvAttrs, DType, Graph, MatMulAttrs, Node, OpKind, OutputMode, Target
from hwgen.passes.rewrite import copy_graph

NAME = "place"


def network_mode(graph: Graph) -> OutputMode:
    """The NPU has one requant rule: shift for integer-dialect networks, else onnxruntime's."""
    for node in graph.nodes:
        if (
            isinstance(node.attrs, ConvAttrs | MatMulAttrs)
            and node.attrs.output.mode is OutputMode.SHIFT
        ):
            return OutputMode.SHIFT
    return OutputMode.REQUANT


def npu_refusal(graph: Graph, node: Node, mode: OutputMode = OutputMode.REQUANT) -> str | None:
    """Why the NPU cannot run this node, or None where it can."""
    if node.op not in (OpKind.CONV, OpKind.MATMUL):
        return f"{node.op.value} has no NPU datapath"
    attrs = node.attrs
    assert isinstance(attrs, ConvAttrs | MatMulAttrs)
    if attrs.output.mode not in (OutputMode.REQUANT, OutputMode.SHIFT):
        return "its output is not requantized to 8 bits (int32 or float output)"
    if attrs.output.mode is not mode:
        return "its requantization rule is not the one this network's NPU uses"
    if graph.type_of(node.inputs[0]).dtype not in (DType.INT8, DType.UINT8):
        return "activations that are not 8-bit"
    shape = graph.type_of(node.inputs[0]).shape
    if len(shape) == 4 and shape[0] != 1:
        return f"a batch of {shape[0]} images"
    if attrs.w_zero_point.any():
        return "weights with a non-zero zero point: the array takes symmetric weights"
    if not graph.is_constant(node.inputs[1]):
        return "the weights are a runtime tensor, not constants"
    if isinstance(attrs, ConvAttrs) and _padding_only_window(
        attrs, graph.type_of(node.inputs[0]).shape
    ):
        return "padding wider than the kernel: some windows hold padding alone"
    if isinstance(attrs, ConvAttrs) and attrs.group != 1:
        channels = graph.type_of(node.inputs[0]).shape[1]
        if attrs.group == channels:
            return "depthwise convolution: one input channel per output would use 1/M of the array"
        return f"grouped convolution (group={attrs.group})"
    if isinstance(attrs, MatMulAttrs):
        a = graph.type_of(node.inputs[0]).shape
        b = graph.type_of(node.inputs[1]).shape
        if attrs.trans_a or len(a) != 2 or len(b) != 2:
            return "only 2-D matrix products with A untransposed map onto the array"
        columns = b[0] if attrs.trans_b else b[1]
        if len(node.inputs) > 2 and graph.type_of(node.inputs[2]).size != columns:
            return "the bias is not one value per output column"
    return None


def _padding_only_window(attrs: ConvAttrs, shape: tuple[int, ...]) -> bool:
    """Whether a window lies wholly in the padding (a kernel of 2 padded by 2): the NPU's tiles
    each read at least one input row and column."""
    geom = attrs.geometry
    out = geom.output_size(shape[2], shape[3])
    for axis in (0, 1):
        span = geom.dilations[axis] * (geom.kernel[axis] - 1) + 1
        before = geom.pads[axis]
        last_start = (out[axis] - 1) * geom.strides[axis] - before
        if before >= span or last_start >= shape[2 + axis]:
            return True
    return False


def apply(graph: Graph, overrides: Mapping[str, Target] | None = None) -> Graph:
    """A copy of the graph with every node placed, and the reason recorded."""
    graph = copy_graph(graph)
    overrides = dict(overrides or {})
    mode = network_mode(graph)
    unknown = sorted(set(overrides) - {n.name for n in graph.nodes})
    if unknown:
        raise HwgenError(f"--place names no node of the graph: {', '.join(unknown)}")
    for node in graph.nodes:
        refusal = npu_refusal(graph, node, mode)
        wanted = overrides.get(node.name)
        if wanted is Target.NPU and refusal is not None:
            raise HwgenError(
                f"cannot place on the NPU: {refusal}", node=node.name, op=node.op.value
            )
        if wanted is Target.HOST:
            node.target, node.reason = Target.HOST, "placed on the host by --place"
        elif refusal is None:
            node.target, node.reason = Target.NPU, f"{node.op.value} on the M x M array"
        else:
            node.target, node.reason = Target.HOST, refusal
    return graph
