"""One damage to a valid model: each mutation changes a model in place and says what it did,
or returns None where the model has nothing it applies to."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import helper, numpy_helper

Rng = np.random.Generator
Mutation = Callable[[Rng, onnx.ModelProto], str | None]

SPECIAL_FLOATS = (
    float("nan"),
    float("inf"),
    float("-inf"),
    0.0,
    -1.0,
    1e-45,
    1e-38,
    1e-30,
    1e30,
    3.4e38,
    0.5,
    1.0,
    1e-3,
    # the edges of the 8-bit scales hwgen takes, [2^-63, 2^63], and just beyond them
    2.0**-63,
    2.0**63,
    2.0**-64,
    2.0**64,
    2.0**-40,
)
SPECIAL_INTS = (0, -1, -3, 1, 2, 3, 7, 100_000, 2**31 - 1, -(2**31), 2**40)
DTYPES = (
    np.int8,
    np.uint8,
    np.int16,
    np.uint16,
    np.int32,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
    np.bool_,
)


def _pick(rng: Rng, items: list) -> object:  # type: ignore[type-arg]
    return items[int(rng.integers(len(items)))]


def _initializer(rng: Rng, model: onnx.ModelProto, kind: str | None = None) -> onnx.TensorProto:
    inits = list(model.graph.initializer)
    if kind is not None:
        preferred = [t for t in inits if kind in t.name]
        inits = preferred or inits
    return _pick(rng, inits)  # type: ignore[return-value]


def _replace(init: onnx.TensorProto, value: np.ndarray) -> None:
    init.CopyFrom(numpy_helper.from_array(value, init.name))


def truncate_raw_data(rng: Rng, model: onnx.ModelProto) -> str | None:
    init = _initializer(rng, model)
    data = numpy_helper.to_array(init)
    if data.nbytes < 2:
        return None
    init.CopyFrom(numpy_helper.from_array(data, init.name))  # raw_data form
    cut = int(rng.integers(1, data.nbytes))
    init.raw_data = init.raw_data[:-cut]
    return f"initializer '{init.name}': raw data {cut} bytes short of its shape"


def change_dtype(rng: Rng, model: onnx.ModelProto) -> str | None:
    init = _initializer(rng, model, _pick(rng, ["zero_point", "scale", "w", "b", ""]))  # type: ignore[arg-type]
    data = numpy_helper.to_array(init)
    dtype = _pick(rng, list(DTYPES))
    if data.dtype == dtype:
        return None
    with np.errstate(all="ignore"):
        _replace(init, data.astype(dtype))
    return f"initializer '{init.name}': {data.dtype} -> {np.dtype(dtype)}"  # type: ignore[call-overload]


def change_length(rng: Rng, model: onnx.ModelProto) -> str | None:
    init = _initializer(rng, model, _pick(rng, ["zero_point", "scale", "b"]))  # type: ignore[arg-type]
    data = numpy_helper.to_array(init)
    flat = data.reshape(-1)
    choice = int(rng.integers(5))
    if choice == 0:
        new = flat[:0]
    elif choice == 1 and flat.size > 1:
        new = flat[:-1]
    elif choice == 2:
        new = np.concatenate([flat, flat[:1]])
    elif choice == 3:
        new = data.reshape((1,) * 4 + data.shape) if data.ndim <= 1 else data.reshape(-1)
    else:
        new = np.tile(flat, 3)
    _replace(init, np.ascontiguousarray(new))
    return f"initializer '{init.name}': shape {list(data.shape)} -> {list(new.shape)}"


def special_value(rng: Rng, model: onnx.ModelProto) -> str | None:
    init = _initializer(rng, model, _pick(rng, ["scale", "zero_point", "w", "b"]))  # type: ignore[arg-type]
    data = numpy_helper.to_array(init).copy()
    if data.size == 0:
        return None
    index = int(rng.integers(data.size))
    flat = data.reshape(-1)
    if data.dtype.kind == "f":
        value: float | int = float(_pick(rng, list(SPECIAL_FLOATS)))  # type: ignore[arg-type]
    else:
        info = np.iinfo(data.dtype)
        value = int(_pick(rng, [info.min, info.max, 0, -1 if info.min < 0 else 1]))
    with np.errstate(all="ignore"):
        flat[index] = value
    _replace(init, data)
    return f"initializer '{init.name}'[{index}] = {value}"


def mutate_attribute(rng: Rng, model: onnx.ModelProto) -> str | None:
    nodes = [n for n in model.graph.node if n.attribute]
    if not nodes:
        return None
    node: onnx.NodeProto = _pick(rng, nodes)  # type: ignore[assignment]
    attr: onnx.AttributeProto = _pick(rng, list(node.attribute))  # type: ignore[assignment]
    choice = int(rng.integers(4))
    if choice == 0:
        node.attribute.remove(attr)
        return f"node '{node.name}': attribute {attr.name} removed"
    if attr.type == onnx.AttributeProto.INTS:
        values = list(attr.ints)
        if choice == 1 and values:
            values.pop()
        elif choice == 2:
            values.append(int(_pick(rng, list(SPECIAL_INTS))))  # type: ignore[call-overload]
        elif values:
            values[int(rng.integers(len(values)))] = int(_pick(rng, list(SPECIAL_INTS)))  # type: ignore[call-overload]
        new = helper.make_attribute(attr.name, values) if values else None
    elif attr.type == onnx.AttributeProto.INT:
        new = helper.make_attribute(attr.name, int(_pick(rng, list(SPECIAL_INTS))))  # type: ignore[call-overload]
    elif attr.type == onnx.AttributeProto.FLOAT:
        new = helper.make_attribute(attr.name, float(_pick(rng, list(SPECIAL_FLOATS))))  # type: ignore[arg-type]
    elif attr.type == onnx.AttributeProto.STRING:
        new = helper.make_attribute(attr.name, _pick(rng, ["", "bogus", "SAME_UPPER", "VALID"]))
    else:
        return None
    node.attribute.remove(attr)
    if new is None:
        return f"node '{node.name}': attribute {attr.name} emptied"
    node.attribute.append(new)
    return f"node '{node.name}': {attr.name} = {helper.get_attribute_value(new)!r}"


def remove_input(rng: Rng, model: onnx.ModelProto) -> str | None:
    node: onnx.NodeProto = _pick(rng, list(model.graph.node))  # type: ignore[assignment]
    if not node.input:
        return None
    index = int(rng.integers(len(node.input)))
    name = node.input[index]
    if rng.integers(2):
        del node.input[index]
        return f"node '{node.name}': input {index} '{name}' removed"
    node.input[index] = ""
    return f"node '{node.name}': input {index} '{name}' left empty"


def add_input(rng: Rng, model: onnx.ModelProto) -> str | None:
    node: onnx.NodeProto = _pick(rng, list(model.graph.node))  # type: ignore[assignment]
    node.input.append(_pick(rng, [i.name for i in model.graph.initializer]))  # type: ignore[arg-type]
    return f"node '{node.name}': an input added"


def remove_node(rng: Rng, model: onnx.ModelProto) -> str | None:
    node: onnx.NodeProto = _pick(rng, list(model.graph.node))  # type: ignore[assignment]
    model.graph.node.remove(node)
    return f"node '{node.name}' removed"


def duplicate_node_name(rng: Rng, model: onnx.ModelProto) -> str | None:
    nodes = list(model.graph.node)
    if len(nodes) < 2:
        return None
    a, b = (nodes[int(i)] for i in rng.choice(len(nodes), 2, replace=False))
    b.name = a.name
    return f"two nodes named '{a.name}'"


def bogus_domain(rng: Rng, model: onnx.ModelProto) -> str | None:
    node: onnx.NodeProto = _pick(rng, list(model.graph.node))  # type: ignore[assignment]
    node.domain = str(_pick(rng, ["bogus.domain", "com.microsoft", "ai.onnx.ml", "", "ai.onnx"]))
    return f"node '{node.name}': domain '{node.domain}'"


def swap_op_type(rng: Rng, model: onnx.ModelProto) -> str | None:
    node: onnx.NodeProto = _pick(rng, list(model.graph.node))  # type: ignore[assignment]
    ops = sorted({n.op_type for n in model.graph.node} | {"Sigmoid", "Bogus", "Identity"})
    old, node.op_type = node.op_type, str(_pick(rng, ops))
    return f"node '{node.name}': {old} -> {node.op_type}"


def opset_import(rng: Rng, model: onnx.ModelProto) -> str | None:
    choice = int(rng.integers(3))
    if choice == 0:
        del model.opset_import[:]
        return "opset imports removed"
    version = int(_pick(rng, [0, 1, 6, 10, 99, 10_000]))  # type: ignore[call-overload]
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            op.version = version
    return f"default opset {version}"


def ir_version(rng: Rng, model: onnx.ModelProto) -> str | None:
    model.ir_version = int(_pick(rng, [0, 1, 2, 3, 99]))  # type: ignore[call-overload]
    return f"IR version {model.ir_version}"


def graph_outputs(rng: Rng, model: onnx.ModelProto) -> str | None:
    choice = int(rng.integers(3))
    if choice == 0:
        del model.graph.output[:]
        return "graph outputs removed"
    out = model.graph.output[0]
    if choice == 1:
        out.name = "nowhere"
        return "graph output renamed to a tensor no node produces"
    out.type.tensor_type.elem_type = onnx.TensorProto.INT16
    return "graph output declared int16"


def graph_input(rng: Rng, model: onnx.ModelProto) -> str | None:
    inp = model.graph.input[0]
    dims = inp.type.tensor_type.shape.dim
    choice = int(rng.integers(5))
    if choice == 0:
        inp.type.tensor_type.elem_type = int(
            _pick(rng, [onnx.TensorProto.INT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.INT8])  # type: ignore[call-overload]
        )
        return f"graph input type {inp.type.tensor_type.elem_type}"
    if choice == 1:
        dims[int(rng.integers(len(dims)))].dim_value = int(_pick(rng, [0, 1, 2, 3, 1000]))  # type: ignore[call-overload]
        return "graph input dimension changed"
    if choice == 2:
        dims[int(rng.integers(len(dims)))].dim_param = "N"
        return "graph input dimension made symbolic"
    if choice == 3:
        dims.add().dim_value = 1
        return "graph input rank raised"
    del dims[-1]
    return "graph input rank lowered"


def rename_tensor(rng: Rng, model: onnx.ModelProto) -> str | None:
    node: onnx.NodeProto = _pick(rng, list(model.graph.node))  # type: ignore[assignment]
    node.output[0] = node.output[0] + "_renamed"
    return f"node '{node.name}': output renamed"


MUTATIONS: tuple[Mutation, ...] = (
    truncate_raw_data,
    change_dtype,
    change_length,
    special_value,
    special_value,
    mutate_attribute,
    mutate_attribute,
    mutate_attribute,
    remove_input,
    add_input,
    remove_node,
    duplicate_node_name,
    bogus_domain,
    swap_op_type,
    opset_import,
    ir_version,
    graph_outputs,
    graph_input,
    rename_tensor,
)


def mutate_bytes(rng: Rng, data: bytes) -> tuple[bytes, str]:
    """Damage the file itself: flipped bytes or a truncation."""
    buf = bytearray(data)
    if rng.integers(2):
        cut = int(rng.integers(1, len(buf)))
        return bytes(buf[:cut]), f"file truncated to {cut} bytes"
    for _ in range(int(rng.integers(1, 8))):
        buf[int(rng.integers(len(buf)))] = int(rng.integers(256))
    return bytes(buf), "bytes overwritten"
