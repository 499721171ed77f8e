"""The IR as an ONNX file (ops in the "hwgen" domain), so that Netron shows the graph after
each compiler pass."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from hwgen.ir.graph import Graph
from hwgen.ir.types import DType

DOMAIN = "hwgen"

_ELEM = {
    DType.INT8: onnx.TensorProto.INT8,
    DType.UINT8: onnx.TensorProto.UINT8,
    DType.INT32: onnx.TensorProto.INT32,
    DType.INT64: onnx.TensorProto.INT64,
    DType.FLOAT32: onnx.TensorProto.FLOAT,
}


def _attributes(obj: object, prefix: str = "") -> dict[str, Any]:
    """Flatten dataclass attributes into ONNX attribute values."""
    found: dict[str, Any] = {}
    if not dataclasses.is_dataclass(obj):
        return found
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            found.update(_attributes(value, f"{key}."))
        elif isinstance(value, np.ndarray) and value.size:  # ONNX cannot type an empty list
            flat = value.reshape(-1)
            found[key] = (
                [float(v) for v in flat] if flat.dtype.kind == "f" else [int(v) for v in flat]
            )
        elif isinstance(value, bool | int | float | str):
            found[key] = value
        elif isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            found[key] = list(value)
        elif value is not None and hasattr(value, "value"):
            found[key] = str(value.value)
    return found


def to_onnx(graph: Graph) -> onnx.ModelProto:
    nodes = []
    for node in graph.nodes:
        attrs = _attributes(node.attrs)
        attrs["target"] = node.target.value
        if node.reason:
            attrs["reason"] = node.reason
        nodes.append(
            helper.make_node(
                node.op.value,
                list(node.inputs),
                list(node.outputs),
                name=node.name,
                domain=DOMAIN,
                **attrs,
            )
        )

    def info(name: str) -> onnx.ValueInfoProto:
        qtype = graph.type_of(name)
        return helper.make_tensor_value_info(name, _ELEM[qtype.dtype], list(qtype.shape))

    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in graph.constants.items()]
    body = helper.make_graph(
        nodes,
        graph.name,
        [info(n) for n in graph.inputs],
        [info(n) for n in graph.outputs],
        inits,
        value_info=[
            info(n)
            for n in graph.tensors
            if n not in graph.inputs and n not in graph.outputs and n not in graph.constants
        ],
    )
    return helper.make_model(
        body, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(DOMAIN, 1)]
    )
