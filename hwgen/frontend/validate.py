"""Validation at load, before any lowering: a model is refused here, with node, input or
attribute and value, when onnxruntime would refuse it or when a value it holds would later
overflow, divide by zero or ask for absurd memory.

Standard graphs (onnxruntime's and NEMO's dialects) go through the ONNX checker with full
shape inference and through onnxruntime's own loading: hwgen's semantics are onnxruntime's, so
a model it refuses has none. Deeploy's graphs are not valid ONNX by design (their integer ops sit
in the default domain), so only hwgen's own checks apply to them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from hwgen.errors import ModelError
from hwgen.frontend.dialect import Dialect, confirm, detect
from hwgen.frontend.model import check_inputs_defined
from hwgen.ir import Graph

# The scale of an 8-bit tensor lies in [2^-63, 2^63], so that the product of two (an input's
# and a weight's, the scale of their product) is a normal float32: onnxruntime computes in
# float32, and beyond that its results underflow or overflow where hwgen's integer rules do
# not. An int32 tensor's scale (a bias's, itself such a product) need only be normal and finite.
# Quantizers write 8-bit scales from about 2^-40 (an all but dead channel) to 2^4.
SCALE_EXPONENT = 63
WIDE_SCALE_EXPONENT = 126
# The largest tensor hwgen will build: 2^28 elements (a quarter GiB of int8, 1 GiB of int32
# partial sums in the golden model) is far beyond any edge network's layer.
MAX_ELEMENTS = 1 << 28
MIN_IR_VERSION = 3
# Attributes that count something and must be at least 1 wherever they appear.
POSITIVE_ATTRIBUTES = ("strides", "dilations", "kernel_shape", "group")
ZERO_POINT_TYPES = (np.int8, np.uint8)
BIAS_ZERO_POINT_TYPES = (np.int32,)


def validate(model: onnx.ModelProto, dialect: Dialect | None) -> Dialect:
    """The model's dialect (`dialect`, or detected), or a ModelError naming what is wrong."""
    if model.ir_version < MIN_IR_VERSION:
        # onnxruntime runs such a file, but ONNX defines none: its opsets came with IR 3.
        raise ModelError(
            f"IR version {model.ir_version}: an ONNX model is IR version {MIN_IR_VERSION} or "
            "later (re-export it, or set ir_version)"
        )
    _names_are_text(model)
    constants = decoded_constants(model)
    if dialect is None:
        dialect = detect(model)
    else:
        confirm(model, dialect)
    if not model.graph.output:
        raise ModelError("the graph declares no outputs: there is nothing to compute")
    graph_inputs = {i.name for i in model.graph.input}
    check_inputs_defined(list(model.graph.node), set(constants) | graph_inputs)
    if dialect is not Dialect.DEEPLOY:
        _onnxruntime_loads(model)
    for node in model.graph.node:
        _attributes(node)
        _quantization(node, constants)
    return dialect


def _names_are_text(model: onnx.ModelProto) -> None:
    """protobuf hands back a string field that is not UTF-8 as bytes: refuse it by name."""
    graph = model.graph
    named = [*graph.input, *graph.output, *graph.initializer, *graph.value_info]
    fields: list[object] = [graph.name, *(x.name for x in named)]
    for node in graph.node:
        fields += [node.name, node.op_type, node.domain, *node.input, *node.output]
        fields += [a.name for a in node.attribute]
    for value in fields:
        if not isinstance(value, str):
            raise ModelError(f"the model holds a name that is not UTF-8 text: {value!r}")


def decoded_constants(model: onnx.ModelProto) -> dict[str, npt.NDArray[np.generic]]:
    """Every initializer and Constant value, refusing one whose data does not fill its shape."""
    found: dict[str, npt.NDArray[np.generic]] = {}
    tensors = [(t.name, t) for t in model.graph.initializer]
    for node in model.graph.node:
        for attr in node.attribute:
            if node.op_type == "Constant" and attr.type == onnx.AttributeProto.TENSOR:
                tensors.append((node.output[0] if node.output else node.name, attr.t))
    for name, tensor in tensors:
        try:
            found[name] = numpy_helper.to_array(tensor)
        except Exception as exc:
            dims = list(tensor.dims)
            raise ModelError(
                f"constant '{name}' of shape {dims}: its data does not decode ({exc})"
            ) from None
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())


# onnxruntime prefixes its messages with a status code and, for some, the C++ function that
# raised them; the user needs the sentence after them.
_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")
_ORT_SOURCE = re.compile(r"\S*onnxruntime_src\S*:\d+ .*?\) (?=[A-Z\[])")


def onnxruntime_reason(exc: Exception) -> str:
    text = _ORT_SOURCE.sub("", _ORT_PREFIX.sub("", _one_line(str(exc))))
    return text if len(text) <= 400 else text[:400] + " ..."


def _onnxruntime_loads(model: onnx.ModelProto) -> None:
    """onnxruntime's loading runs ONNX's checks and strict shape inference, and its own (node
    names unique, opsets it knows). The ONNX checker alone is not the judge: it refuses models
    onnxruntime runs, such as a graph output declared without a type."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # its reason is in the message: nothing on stderr
    try:
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        # A valid graph with a node onnxruntime has no kernel for (NOT_IMPLEMENTED) is left
        # to the lowering, which names every such node.
        if type(exc).__name__ != "NotImplemented":
            raise ModelError(f"onnxruntime refuses the model: {onnxruntime_reason(exc)}") from None


def _attributes(node: onnx.NodeProto) -> None:
    for attr in node.attribute:
        values: list[int] = []
        if attr.type == onnx.AttributeProto.INTS:
            values = list(attr.ints)
        elif attr.type == onnx.AttributeProto.INT:
            values = [attr.i]
        if attr.name in POSITIVE_ATTRIBUTES and any(v < 1 for v in values):
            shown = values if attr.type == onnx.AttributeProto.INTS else values[0]
            raise ModelError(
                f"attribute {attr.name} = {shown}: must be at least 1",
                node=node.name,
                op=node.op_type,
            )
        # Pad's own pads may crop; a kernel's pads only add.
        if attr.name == "pads" and node.op_type != "Pad" and any(v < 0 for v in values):
            raise ModelError(
                f"attribute pads = {values}: padding cannot be negative",
                node=node.name,
                op=node.op_type,
            )


# -- scales and zero points ----------------------------------------------------------------


@cache
def _contrib_schemas() -> dict[tuple[str, str], list[str]]:
    """onnxruntime's own ops (com.microsoft): the formal names of their inputs."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_c

    return {
        (s.domain, s.name): [i.name for i in s.inputs]
        for s in ort_c.get_all_operator_schema()
        if s.domain == "com.microsoft"
    }


def _formal_inputs(node: onnx.NodeProto) -> list[str]:
    if node.domain == "com.microsoft":
        return _contrib_schemas().get((node.domain, node.op_type), [])
    if node.domain not in ("", "ai.onnx") or not onnx.defs.has(node.op_type):
        return []
    return [i.name for i in onnx.defs.get_schema(node.op_type).inputs]


def _quant_inputs(node: onnx.NodeProto) -> Iterator[tuple[str, str, str]]:
    """(scale input, its zero point input or '', what the scale is to the op) for each pair."""
    formal = _formal_inputs(node)
    if node.op_type == "QLinearConcat" and formal:
        # Y_scale, Y_zero_point, then (tensor, scale, zero point) per input.
        yield node.input[0], node.input[1] if len(node.input) > 1 else "", "Y_scale"
        for k in range(2, len(node.input) - 2, 3):
            yield node.input[k + 1], node.input[k + 2], f"the scale of '{node.input[k]}'"
        return
    names = dict(zip(formal, node.input, strict=False))
    for formal_name, actual in names.items():
        if formal_name.lower().endswith("scale") and actual:
            zp = names.get(formal_name[: -len("scale")] + "zero_point", "")
            yield actual, zp, formal_name


def _quantization(node: onnx.NodeProto, constants: dict[str, npt.NDArray[np.generic]]) -> None:
    for scale_name, zp_name, what in _quant_inputs(node):
        scale = constants.get(scale_name)
        zp = constants.get(zp_name) if zp_name else None
        quantized = constants.get(node.input[0]) if node.op_type == "DequantizeLinear" else None
        wide = any(v is not None and v.dtype == np.int32 for v in (zp, quantized))
        if scale is not None:
            _check_scale(node, f"{what} '{scale_name}'", scale, wide)
        if zp is None:
            continue
        bias = node.op_type == "DequantizeLinear" and zp.dtype == np.int32
        allowed = BIAS_ZERO_POINT_TYPES if bias else ZERO_POINT_TYPES
        if zp.dtype.type not in allowed:
            raise ModelError(
                f"zero point '{zp_name}' is {zp.dtype}: hwgen takes int8 and uint8 "
                "tensors (and int32 biases)",
                node=node.name,
                op=node.op_type,
            )
        if zp.ndim > 1:
            raise ModelError(
                f"zero point '{zp_name}' has shape {list(zp.shape)}: a scalar or one "
                "value per channel",
                node=node.name,
                op=node.op_type,
            )
        if scale is not None and zp.size != scale.size:
            raise ModelError(
                f"zero point '{zp_name}' has {zp.size} values, its scale '{scale_name}' "
                f"{scale.size}",
                node=node.name,
                op=node.op_type,
            )


def _check_scale(
    node: onnx.NodeProto, what: str, scale: npt.NDArray[np.generic], wide: bool
) -> None:
    def refuse(why: str) -> ModelError:
        return ModelError(f"{what} {why}", node=node.name, op=node.op_type)

    if scale.dtype != np.float32:
        raise refuse(f"is {scale.dtype}: scales are float32")
    if scale.ndim > 1 or scale.size == 0:
        raise refuse(f"has shape {list(scale.shape)}: a scalar or one value per channel")
    flat = scale.reshape(-1).astype(np.float64)
    bad = ~np.isfinite(flat) | (flat <= 0)
    if bad.any():
        raise refuse(f"= {float(flat[bad][0]):g}: a scale must be positive and finite")
    with np.errstate(divide="ignore"):
        exponents = np.abs(np.log2(flat))
    bound = WIDE_SCALE_EXPONENT if wide else SCALE_EXPONENT
    if (exponents > bound).any():
        worst = flat[int(np.argmax(exponents))]
        raise refuse(
            f"= {float(worst):g}: the scale of {'an int32' if wide else 'an 8-bit'} tensor lies "
            f"in [2^-{bound}, 2^{bound}], where onnxruntime's float32 arithmetic on it neither "
            "overflows nor underflows"
        )


def check_sizes(graph: Graph) -> None:
    """Refuse a tensor too large to build, naming the node that would produce it; shapes are
    known only once lowered, and nothing has been allocated yet."""
    producers = graph.producers()
    for name, qtype in graph.tensors.items():
        count = int(np.prod(qtype.shape, dtype=np.float64))
        if count > MAX_ELEMENTS:
            node = producers.get(name)
            raise ModelError(
                f"tensor '{name}' of shape {list(qtype.shape)} holds {count:,} elements; "
                f"hwgen builds tensors of at most {MAX_ELEMENTS:,}",
                node=node.name if node else None,
                op=node.op.value if node else None,
            )


def check_declared_shapes(model: onnx.ModelProto, graph: Graph) -> None:
    """Refuse shapes the model declares (value_info, graph outputs) that its nodes do not
    compute: onnxruntime refuses such a model when it runs it. Tensors that hwgen holds at
    another rank (a 1-D network lifted to H = 1 images) are not compared."""
    # A QDQ graph's float tensors are held as the integers they are quantized to or from.
    held_as: dict[str, str] = {}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input and node.output:
            held_as[node.input[0]] = node.output[0]
        elif node.op_type == "DequantizeLinear" and node.input and node.output:
            held_as[node.output[0]] = node.input[0]
    for info in [*model.graph.value_info, *model.graph.output]:
        qtype = graph.tensors.get(info.name) or graph.tensors.get(held_as.get(info.name, ""))
        dims = info.type.tensor_type.shape.dim
        if qtype is None or len(dims) != len(qtype.shape):
            continue
        declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if any(d is not None and d != n for d, n in zip(declared, qtype.shape, strict=True)):
            raise ModelError(
                f"tensor '{info.name}' is declared {declared} but its producer computes "
                f"{list(qtype.shape)}"
            )
