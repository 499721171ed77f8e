"""Fuse a ReLU / Clip into the requantization of the conv or matmul that feeds it."""

from __future__ import annotations

import dataclasses

from hwgen.ir import ClampAttrs, Graph, LinearAttrs, OpKind, OutputMode
from hwgen.passes.rewrite import absorb, sole_reader

NAME = "fuse_activation"


def apply(graph: Graph) -> Graph:
    """conv/matmul -> clamp, where the clamp is the only reader and the conv's output is not a
    graph output, becomes one conv whose requant clamps; the clamp's output name is kept."""
    readers = graph.consumers()
    producers = graph.producers()
    removed: set[str] = set()
    for clamp in list(graph.nodes):
        if clamp.op is not OpKind.CLAMP:
            continue
        assert isinstance(clamp.attrs, ClampAttrs)
        source = producers.get(clamp.inputs[0])
        if source is None or source.op not in (OpKind.CONV, OpKind.MATMUL):
            continue
        attrs = source.attrs
        assert isinstance(attrs, LinearAttrs)
        if attrs.output.mode not in (OutputMode.REQUANT, OutputMode.SHIFT):
            continue
        if not sole_reader(graph, source.outputs[0], readers):
            continue
        dtype = attrs.output.dtype
        shift = attrs.output.shift
        if shift is not None:  # the shift stage clamps to its own bounds: narrow them
            lower, upper = shift.lower, shift.upper
        else:
            lower, upper = attrs.output.clamp or (dtype.qmin, dtype.qmax)
        bounds = (max(lower, clamp.attrs.lower), min(upper, clamp.attrs.upper))
        if shift is not None:
            narrowed = dataclasses.replace(shift, lower=bounds[0], upper=bounds[1])
            output = dataclasses.replace(attrs.output, shift=narrowed)
        else:
            output = dataclasses.replace(attrs.output, clamp=bounds)
        source.attrs = dataclasses.replace(attrs, output=output)
        absorb(graph, source, clamp)
        removed.add(clamp.name)
    graph.nodes = [n for n in graph.nodes if n.name not in removed]
    return graph
