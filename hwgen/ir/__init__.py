"""Typed integer IR: tensor types, ops with typed attributes, nodes and graphs."""

from hwgen.ir.graph import Graph, Node, Target
from hwgen.ir.ops import (
    ClampAttrs,
    ConcatAttrs,
    ConvAttrs,
    GlobalPoolAttrs,
    IntPoolAttrs,
    LinearAttrs,
    MatMulAttrs,
    NoAttrs,
    OpAttrs,
    OpKind,
    OutputMode,
    PadAttrs,
    PoolAttrs,
    PoolRounding,
    Requant,
    ShiftRequantAttrs,
    TransposeAttrs,
)
from hwgen.ir.types import DType, QType, Quant

__all__ = [
    "ClampAttrs",
    "ConcatAttrs",
    "ConvAttrs",
    "DType",
    "GlobalPoolAttrs",
    "Graph",
    "IntPoolAttrs",
    "LinearAttrs",
    "MatMulAttrs",
    "NoAttrs",
    "Node",
    "OpAttrs",
    "OpKind",
    "OutputMode",
    "PadAttrs",
    "PoolAttrs",
    "PoolRounding",
    "QType",
    "Quant",
    "Requant",
    "ShiftRequantAttrs",
    "Target",
    "TransposeAttrs",
]
