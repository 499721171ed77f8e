"""ONNX -> integer IR, one module per dialect and op family: onnxruntime's QOperator and QDQ
graphs (and MatMulInteger / ConvInteger), and the integer-only graphs of Deeploy and NEMO/DORY."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hwgen.frontend.dialect import Dialect
from hwgen.frontend.lower import Lowering, NodeReport, Status, lower_model, lower_or_raise
from hwgen.frontend.model import freeze_inputs, read_model
from hwgen.ir import Graph
from hwgen.ir.types import DType


def load(
    path: str | Path,
    dialect: Dialect | None = None,
    input_types: Mapping[str, DType] | None = None,
) -> Graph:
    """Read and lower an ONNX file; the first unsupported node raises a HwgenError."""
    return lower_or_raise(read_model(path), dialect, input_types)


__all__ = [
    "Dialect",
    "Lowering",
    "NodeReport",
    "Status",
    "freeze_inputs",
    "load",
    "lower_model",
    "lower_or_raise",
    "read_model",
]
