"""Fuse ReLU / Clip: a chain of them into one clamp, and a clamp into the requantization of the
conv or matmul that feeds it."""

from __future__ import annotations

import dataclasses

from hwgen.ir import (
    ClampAttrs,
    ConvAttrs,
    Graph,
    LinearAttrs,
    MatMulAttrs,
    Node,
    OpKind,
    OutputMode,
)
from hwgen.passes.rewrite import absorb, rewrite, sole_reader

NAME = "fuse_activation"


def _bounds(attrs: LinearAttrs) -> tuple[int, int]:
    """The range a conv's stored output is clamped to now."""
    out = attrs.output
    if out.shift is not None:  # the shift stage clamps to its own bounds
        return out.shift.lower, out.shift.upper
    return out.clamp or (out.dtype.qmin, out.dtype.qmax)


def _with_bounds(
    attrs: ConvAttrs | MatMulAttrs, bounds: tuple[int, int]
) -> ConvAttrs | MatMulAttrs:
    out = attrs.output
    if out.shift is not None:
        narrowed = dataclasses.replace(out.shift, lower=bounds[0], upper=bounds[1])
        return dataclasses.replace(attrs, output=dataclasses.replace(out, shift=narrowed))
    return dataclasses.replace(attrs, output=dataclasses.replace(out, clamp=bounds))


def _fusable_source(graph: Graph, clamp: Node) -> Node | None:
    """The node a clamp can fold into: its producer, if the clamp is that output's only reader
    and the producer is a clamp or a requantizing conv / matmul."""
    source = graph.producers().get(clamp.inputs[0])
    if source is None or not sole_reader(graph, source.outputs[0], graph.consumers()):
        return None
    if source.op is OpKind.CLAMP:
        return source
    if source.op in (OpKind.CONV, OpKind.MATMUL):
        assert isinstance(source.attrs, LinearAttrs)
        if source.attrs.output.mode in (OutputMode.REQUANT, OutputMode.SHIFT):
            return source
    return None


def fuse_one(graph: Graph) -> bool:
    """Fold the first clamp that can be folded into its producer; False when none can."""
    for clamp in graph.nodes:
        if clamp.op is not OpKind.CLAMP:
            continue
        source = _fusable_source(graph, clamp)
        if source is None:
            continue
        assert isinstance(clamp.attrs, ClampAttrs)
        if source.op is OpKind.CLAMP:
            assert isinstance(source.attrs, ClampAttrs)
            lower, upper = source.attrs.lower, source.attrs.upper
        else:
            assert isinstance(source.attrs, LinearAttrs)
            lower, upper = _bounds(source.attrs)
        bounds = (max(lower, clamp.attrs.lower), min(upper, clamp.attrs.upper))
        if source.op is OpKind.CLAMP:
            source.attrs = ClampAttrs(*bounds)
        else:
            assert isinstance(source.attrs, ConvAttrs | MatMulAttrs)
            source.attrs = _with_bounds(source.attrs, bounds)
        absorb(graph, source, clamp)
        return True
    return False


def apply(graph: Graph) -> Graph:
    """conv/matmul -> clamp -> clamp ... where each is the only reader of the one before and no
    link is a graph output, becomes one conv whose requant clamps to the bounds of them all; the
    last clamp's output name is kept."""
    return rewrite(graph, fuse_one)
