"""Reading an ONNX file into a checked, indexed view: constants, producers, static types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from hwgen.errors import ModelError
from hwgen.ir.types import DType, QType

_ONNX_DTYPES: dict[int, DType] = {
    onnx.TensorProto.INT8: DType.INT8,
    onnx.TensorProto.UINT8: DType.UINT8,
    onnx.TensorProto.INT32: DType.INT32,
    onnx.TensorProto.INT64: DType.INT64,
    onnx.TensorProto.FLOAT: DType.FLOAT32,
}


def read_model(path: str | Path) -> onnx.ModelProto:
    """Load an ONNX file, turning every way it can fail into one clear ModelError."""
    p = Path(path)
    if p.is_dir():
        raise ModelError(f"'{p}' is a directory: give the ONNX file inside it")
    if not p.is_file():
        raise ModelError(f"'{p}': no such file")
    try:
        model = onnx.load(str(p))
    except Exception as exc:  # protobuf raises several unrelated types for a corrupt file
        raise ModelError(
            f"'{p}' is not a readable ONNX model ({type(exc).__name__}: {exc})"
        ) from None
    if not model.graph.node:
        raise ModelError(f"'{p}' holds no graph nodes (not an ONNX model, or an empty one)")
    return model


def freeze_inputs(model: onnx.ModelProto, values: Mapping[str, npt.ArrayLike]) -> onnx.ModelProto:
    """Turn graph inputs into initializers, e.g. the scales and zero points that ONNX's node
    tests feed as inputs, so that the integer ops they parametrize become static."""
    frozen = onnx.ModelProto()
    frozen.CopyFrom(model)
    keep = [i for i in frozen.graph.input if i.name not in values]
    del frozen.graph.input[:]
    frozen.graph.input.extend(keep)
    for name, value in values.items():
        frozen.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    return frozen


def onnx_dtype(elem_type: int, where: str) -> DType:
    try:
        return _ONNX_DTYPES[elem_type]
    except KeyError:
        name = onnx.TensorProto.DataType.Name(elem_type)
        raise ModelError(f"{where}: element type {name} is not supported") from None


@dataclass
class OnnxView:
    """An ONNX graph with its constants extracted and its nodes in topological order."""

    model: onnx.ModelProto
    constants: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)
    input_types: dict[str, QType] = field(default_factory=dict)
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    consumers: dict[str, list[onnx.NodeProto]] = field(default_factory=dict)
    producer: dict[str, onnx.NodeProto] = field(default_factory=dict)

    @property
    def graph(self) -> onnx.GraphProto:
        return self.model.graph

    @property
    def outputs(self) -> list[str]:
        return [o.name for o in self.graph.output]


def node_label(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def index_model(model: onnx.ModelProto) -> OnnxView:
    """Extract constants and static input types, order the nodes, and refuse dynamic shapes and
    dangling inputs with the name of the tensor and node concerned."""
    view = OnnxView(model)
    graph = model.graph
    for init in graph.initializer:
        view.constants[init.name] = numpy_helper.to_array(init)
    for i, node in enumerate(graph.node):
        if not node.name:
            node.name = node_label(node, i)
    compute: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            view.constants[node.output[0]] = _constant_value(node)
        else:
            compute.append(node)
    for inp in graph.input:
        if inp.name in view.constants:
            continue  # an initializer also listed as an input (older exporters)
        view.input_types[inp.name] = _input_type(inp)
    view.nodes = _topological(compute, set(view.constants) | set(view.input_types))
    for node in view.nodes:
        for out in node.output:
            view.producer[out] = node
        for name in node.input:
            if name:
                view.consumers.setdefault(name, []).append(node)
    for out in graph.output:
        if out.name not in view.producer and out.name not in view.input_types:
            raise ModelError(f"graph output '{out.name}' is produced by no node")
    return view


def _constant_value(node: onnx.NodeProto) -> npt.NDArray[np.generic]:
    for attr in node.attribute:
        if attr.name == "value":
            return numpy_helper.to_array(attr.t)
    raise ModelError(
        "only Constant nodes with a tensor 'value' are supported", node=node.name, op="Constant"
    )


def _input_type(inp: onnx.ValueInfoProto) -> QType:
    tensor = inp.type.tensor_type
    if not inp.type.HasField("tensor_type"):
        raise ModelError(f"graph input '{inp.name}' is not a tensor")
    dims: list[int] = []
    for d in tensor.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        else:
            label = d.dim_param or "?"
            raise ModelError(
                f"graph input '{inp.name}' has a dynamic dimension '{label}': hwgen compiles "
                "static shapes only (fix it, e.g. with onnxruntime.tools.make_dynamic_shape_fixed)"
            )
    return QType(onnx_dtype(tensor.elem_type, f"graph input '{inp.name}'"), tuple(dims))


def check_inputs_defined(nodes: list[onnx.NodeProto], available: set[str]) -> None:
    """Refuse a node input that nothing defines, naming the node."""
    produced = {out for node in nodes for out in node.output}
    for node in nodes:
        for name in node.input:
            if name and name not in produced and name not in available:
                raise ModelError(
                    f"input '{name}' is neither a graph input, an initializer nor a node output "
                    "(missing initializer?)",
                    node=node.name,
                    op=node.op_type,
                )


def _topological(nodes: list[onnx.NodeProto], available: set[str]) -> list[onnx.NodeProto]:
    check_inputs_defined(nodes, available)
    ordered: list[onnx.NodeProto] = []
    ready = set(available)
    pending = list(nodes)
    while pending:
        progress = [n for n in pending if all(not i or i in ready for i in n.input)]
        if not progress:
            raise ModelError("the graph has a cycle", node=pending[0].name, op=pending[0].op_type)
        for n in progress:
            ordered.append(n)
            ready.update(n.output)
        pending = [n for n in pending if all(n is not p for p in progress)]
    return ordered
