"""Figures derived from the IR: work per node."""

from __future__ import annotations

import numpy as np

from hwgen.ir.graph import Graph, Node
from hwgen.ir.ops import MatMulAttrs, OpKind


def macs(graph: Graph, node: Node) -> int:
    """Multiply-accumulates of a conv or matmul node; 0 for every other op."""
    outputs = int(np.prod(graph.type_of(node.outputs[0]).shape, dtype=np.int64))
    if node.op is OpKind.CONV:
        _, cin_per_group, kh, kw = graph.type_of(node.inputs[1]).shape
        return outputs * cin_per_group * kh * kw
    if node.op is OpKind.MATMUL:
        assert isinstance(node.attrs, MatMulAttrs)
        a = graph.type_of(node.inputs[0]).shape
        reduction = a[0] if node.attrs.trans_a else a[-1]
        return outputs * reduction
    return 0
