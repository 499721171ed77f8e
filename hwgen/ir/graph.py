"""Nodes and graphs of the integer IR."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hwgen.ir.ops import OpAttrs, OpKind
from hwgen.ir.types import QType


class Target(enum.Enum):
    """Where a node runs."""

    HOST = "host"
    NPU = "npu"


@dataclass
class Node:
    name: str
    op: OpKind
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: OpAttrs
    # Names of the ONNX nodes this one was lowered from (a QDQ group folds several).
    origin: tuple[str, ...] = ()
    target: Target = Target.HOST
    reason: str = ""  # why it runs where it does, once placed


@dataclass
class Graph:
    name: str
    tensors: dict[str, QType] = field(default_factory=dict)
    constants: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def type_of(self, tensor: str) -> QType:
        return self.tensors[tensor]

    def is_constant(self, tensor: str) -> bool:
        return tensor in self.constants

    def producers(self) -> dict[str, Node]:
        return {out: node for node in self.nodes for out in node.outputs}

    def consumers(self) -> dict[str, list[Node]]:
        readers: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in node.inputs:
                readers.setdefault(name, []).append(node)
        return readers

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)
