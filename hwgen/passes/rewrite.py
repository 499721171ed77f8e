"""Graph rewriting shared by the fusion passes: rules applied to a copy of the graph until none
changes it, and the surgery the rules share."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hwgen.ir import Graph, Node

Rule = Callable[[Graph], bool]


def copy_graph(graph: Graph) -> Graph:
    """Nodes and tables copied; the constants' arrays and the frozen attributes shared."""
    return Graph(
        graph.name,
        tensors=dict(graph.tensors),
        constants=dict(graph.constants),
        nodes=[dataclasses.replace(node) for node in graph.nodes],
        inputs=list(graph.inputs),
        outputs=list(graph.outputs),
    )


def rewrite(graph: Graph, *rules: Rule) -> Graph:
    """A copy of `graph` with `rules` applied, in turn, until none of them changes it; the
    caller's graph is left as it was."""
    result = copy_graph(graph)
    while any([rule(result) for rule in rules]):
        pass
    return result


def absorb(graph: Graph, producer: Node, consumer: Node) -> None:
    """`producer` takes over `consumer`'s outputs (and its origin); the tensor between them
    goes, and so does `consumer`."""
    middle = producer.outputs[0]
    producer.outputs = consumer.outputs
    producer.origin = producer.origin + consumer.origin
    del graph.tensors[middle]
    graph.nodes = [n for n in graph.nodes if n is not consumer]


def sole_reader(graph: Graph, tensor: str, readers: dict[str, list[Node]]) -> bool:
    """The tensor is read by exactly one node and is not a graph output."""
    return len(readers.get(tensor, [])) == 1 and tensor not in graph.outputs
