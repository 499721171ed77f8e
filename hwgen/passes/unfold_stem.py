"""A convolution over few input channels, as a network's first one (three colour channels), wastes
most of the array: the NPU pads the channels of every tap to a block of M, so a 3x3 kernel over
3 channels takes nine blocks where 27 products would fill four. Unfolded (im2col on the host,
then a 1x1 convolution over kh * kw * C channels, weights reordered to match) it takes the four.

Only where the unfolded layer takes fewer reduction blocks, and where the input comes from the
host anyway (a graph input, a quantize): the host pass over the input is then one copy more,
where after an NPU layer it would be a trip out of the NPU and back. The sums are the same
products in another order, so the outputs are bit for bit the convolution's; the unfolded input
is kh * kw times the input's size in L2."""

from __future__ import annotations

import dataclasses

import numpy as np

from hwgen.ir import ConvAttrs, Graph, Im2ColAttrs, Node, OpKind, Target
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.passes.rewrite import copy_graph

NAME = "unfold_stem"


def _blocks(channels: int, array: int) -> int:
    return -(-channels // array)


def worth_unfolding(graph: Graph, node: Node, array: int) -> bool:
    if node.op is not OpKind.CONV or node.target is not Target.NPU:
        return False
    attrs = node.attrs
    assert isinstance(attrs, ConvAttrs)
    kh, kw = attrs.geometry.kernel
    c = graph.type_of(node.inputs[0]).shape[1]
    if attrs.group != 1 or kh * kw == 1:
        return False
    producer = graph.producers().get(node.inputs[0])
    if producer is not None and producer.target is Target.NPU:
        return False
    return _blocks(kh * kw * c, array) < kh * kw * _blocks(c, array)


def _unfold(graph: Graph, node: Node) -> Node:
    attrs = node.attrs
    assert isinstance(attrs, ConvAttrs)
    x = graph.type_of(node.inputs[0])
    n, c, h, w = x.shape
    kh, kw = attrs.geometry.kernel
    oh, ow = attrs.geometry.output_size(h, w)
    unfolded = f"{node.inputs[0]}#im2col_{node.name}"
    graph.tensors[unfolded] = x.with_shape((n, kh * kw * c, oh, ow))
    im2col = Node(
        f"{node.name}.im2col",
        OpKind.IM2COL,
        (node.inputs[0],),
        (unfolded,),
        Im2ColAttrs(attrs.geometry, attrs.x_zero_point),
        origin=node.origin,
        target=Target.HOST,
        reason=f"the windows of '{node.name}' as channels: {c} channels over {kh}x{kw} taps "
        "fill the array's blocks once unfolded",
    )
    weights = graph.constants[node.inputs[1]]
    o = weights.shape[0]
    # (O, C, kh, kw) -> (O, kh * kw * C, 1, 1), in the order im2col lays the taps out.
    reordered = np.ascontiguousarray(weights.transpose(0, 2, 3, 1).reshape(o, kh * kw * c, 1, 1))
    name = f"{node.inputs[1]}#im2col"
    graph.constants[name] = reordered
    graph.tensors[name] = graph.type_of(node.inputs[1]).with_shape(reordered.shape)
    node.inputs = (unfolded, name, *node.inputs[2:])
    node.attrs = dataclasses.replace(attrs, geometry=Conv2dGeometry((1, 1)))
    return im2col


def apply(graph: Graph, array: int) -> Graph:
    result = copy_graph(graph)
    nodes: list[Node] = []
    for node in result.nodes:
        if worth_unfolding(result, node, array):
            nodes.append(_unfold(result, node))
        nodes.append(node)
    result.nodes = nodes
    return result
