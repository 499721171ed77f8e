"""Collapse a chain of reshapes and transposes that passes through tensors of more than four
axes (ShuffleNet's channel shuffle: [N, C, H, W] -> [N, g, C/g, H, W] -> swap -> [N, C, H, W])
into one gather: the host C stores tensors of up to four axes, and the chain only moves
values."""

from __future__ import annotations

import numpy as np

from hwgen.ir import GatherAttrs, Graph, Node, OpKind, TransposeAttrs
from hwgen.passes.rewrite import rewrite, sole_reader

NAME = "collapse_movement"

_MOVES = (OpKind.RESHAPE, OpKind.TRANSPOSE)
MAX_STORED_RANK = 4


def _high_rank(graph: Graph, tensor: str) -> bool:
    return len(graph.type_of(tensor).shape) > MAX_STORED_RANK


def _chain(graph: Graph, first: Node) -> list[Node]:
    """`first` and the moves after it, for as long as the tensor between is of high rank and
    read by the next move alone."""
    readers = graph.consumers()
    chain = [first]
    while _high_rank(graph, chain[-1].outputs[0]):
        out = chain[-1].outputs[0]
        nxt = readers.get(out, [])
        if not sole_reader(graph, out, readers) or nxt[0].op not in _MOVES:
            return []
        chain.append(nxt[0])
    return chain if len(chain) > 1 else []


def _source(graph: Graph, chain: list[Node]) -> np.ndarray:
    shape = graph.type_of(chain[0].inputs[0]).shape
    index = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    for node in chain:
        if node.op is OpKind.TRANSPOSE:
            assert isinstance(node.attrs, TransposeAttrs)
            index = index.transpose(node.attrs.perm)
        else:
            index = index.reshape(graph.type_of(node.outputs[0]).shape)
    return np.ascontiguousarray(index.reshape(-1))


def collapse_one(graph: Graph) -> bool:
    for node in graph.nodes:
        if node.op not in _MOVES or _high_rank(graph, node.inputs[0]):
            continue
        chain = _chain(graph, node)
        if not chain:
            continue
        gather = Node(
            name=node.name,
            op=OpKind.GATHER,
            inputs=node.inputs,
            outputs=chain[-1].outputs,
            attrs=GatherAttrs(_source(graph, chain)),
            origin=tuple(o for n in chain for o in n.origin),
        )
        gone = {id(n) for n in chain}
        for n in chain[:-1]:
            del graph.tensors[n.outputs[0]]
        at = graph.nodes.index(node)
        graph.nodes = [n for n in graph.nodes if id(n) not in gone]
        graph.nodes.insert(at, gather)
        return True
    return False


def apply(graph: Graph) -> Graph:
    return rewrite(graph, collapse_one)
