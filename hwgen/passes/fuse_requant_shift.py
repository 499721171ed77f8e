"""Fuse an integer dialect's RequantShift into the conv or matmul whose int32 sums it takes,
as their SHIFT output stage (the NPU's shift requant mode)."""

from __future__ import annotations

import dataclasses

from hwgen.ir import Graph, LinearAttrs, OpKind, OutputMode, Requant, ShiftRequantAttrs
from hwgen.passes.rewrite import absorb, rewrite, sole_reader

NAME = "fuse_requant_shift"


def fuse_one(graph: Graph) -> bool:
    producers, readers = graph.producers(), graph.consumers()
    for rq in graph.nodes:
        if rq.op is not OpKind.REQUANT_SHIFT:
            continue
        attrs = rq.attrs
        assert isinstance(attrs, ShiftRequantAttrs)
        if attrs.axis != 1 and max(attrs.mul.size, attrs.add.size) > 1:
            continue  # per row: the output stage has one rule per output channel (column)
        source = producers.get(rq.inputs[0])
        if source is None or source.op not in (OpKind.CONV, OpKind.MATMUL):
            continue
        linear = source.attrs
        assert isinstance(linear, LinearAttrs)
        if linear.output.mode is not OutputMode.INT32 or not sole_reader(
            graph, source.outputs[0], readers
        ):
            continue
        out_type = graph.type_of(rq.outputs[0])
        stage = Requant(OutputMode.SHIFT, linear.output.multiplier, 0, out_type.dtype, shift=attrs)
        source.attrs = dataclasses.replace(linear, output=stage)
        absorb(graph, source, rq)
        return True
    return False


def apply(graph: Graph) -> Graph:
    return rewrite(graph, fuse_one)
