"""ONNX -> integer IR, one module per dialect and op family: onnxruntime's QOperator and QDQ
graphs (and MatMulInteger / ConvInteger), and the integer-only graphs of Deeploy and NEMO/DORY."""

from __future__ import annotations

from pathlib import Path

from hwgen.frontend.dialect import Dialect
from hwgen.frontend.lower import Lowering, NodeReport, Status, lower_model, lower_or_raise
from hwgen.frontend.model import freeze_inputs, read_model
from hwgen.ir import Graph


def load(path: str | Path, dialect: Dialect | None = None) -> Graph:
    """Read and lower an ONNX file; the first unsupported node raises a HwgenError."""
    return lower_or_raise(read_model(path), dialect)


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
