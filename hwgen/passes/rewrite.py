"""Graph surgery shared by the fusion passes."""

from __future__ import annotations

from hwgen.ir import Graph, Node


def absorb(graph: Graph, producer: Node, consumer: Node) -> None:
    """`producer` takes over `consumer`'s outputs (and its origin); the tensor between them
    goes. The caller removes `consumer` from the node list."""
    middle = producer.outputs[0]
    producer.outputs = consumer.outputs
    producer.origin = producer.origin + consumer.origin
    del graph.tensors[middle]


def sole_reader(graph: Graph, tensor: str, readers: dict[str, list[Node]]) -> bool:
    """The tensor is read by exactly one node and is not a graph output."""
    return len(readers.get(tensor, [])) == 1 and tensor not in graph.outputs
