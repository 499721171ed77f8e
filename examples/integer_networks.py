"""Integer-only example networks in the two dialects hwgen reads besides onnxruntime's:
Deeploy (RequantShift nodes) and NEMO/DORY (Mul-Add-Div-Floor-Clip on integer-valued floats).

Each builder returns the ONNX model and the integer parameters it holds, so that tests can
compute the expected outputs with an independent integer reference. Weights stay small enough
that every float32 intermediate of the NEMO graphs is exact (below 2^24), so onnxruntime runs
them exactly too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CNN_INPUT = (1, 4, 8, 8)
MLP_INPUT = (1, 32)


@dataclass
class Requant:
    mul: np.ndarray  # per channel
    add: np.ndarray
    div: int
    lower: int = -128
    upper: int = 127


@dataclass
class Layer:
    kind: str  # conv, gemm, add, maxpool, avgpool, flatten
    name: str
    inputs: list[str]
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    pads: int = 0
    group: int = 1
    requant: Requant | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


class _Net:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.layers: list[Layer] = []

    def requant(self, channels: int, relu: bool) -> Requant:
        return Requant(
            self.rng.integers(1, 17, size=channels),
            self.rng.integers(-256, 256, size=channels),
            2 ** int(self.rng.integers(9, 12)),
            0 if relu else -128,
            127,
        )

    def conv(
        self, name: str, x: str, cin: int, cout: int, k: int, group: int = 1, relu: bool = False
    ) -> str:
        w = self.rng.integers(-32, 33, size=(cout, cin // group, k, k))
        b = self.rng.integers(-512, 513, size=cout)
        self.layers.append(Layer("conv", name, [x], w, b, k // 2, group, self.requant(cout, relu)))
        return name

    def gemm(self, name: str, x: str, cin: int, cout: int, relu: bool = False) -> str:
        w = self.rng.integers(-32, 33, size=(cout, cin))
        b = self.rng.integers(-512, 513, size=cout)
        self.layers.append(Layer("gemm", name, [x], w, b, requant=self.requant(cout, relu)))
        return name

    def add(self, name: str, a: str, b: str, channels: int) -> str:
        self.layers.append(
            Layer(
                "add",
                name,
                [a, b],
                requant=Requant(np.ones(channels, np.int64), np.zeros(channels, np.int64), 2),
            )
        )
        return name

    def simple(self, kind: str, name: str, x: str, **attrs: Any) -> str:
        self.layers.append(Layer(kind, name, [x], attrs=attrs))
        return name


def _cnn_layers(seed: int) -> list[Layer]:
    n = _Net(seed)
    h = n.conv("conv1", "input", 4, 8, 3, relu=True)
    skip = n.simple("maxpool", "pool1", h, kernel=2)
    h = n.conv("dw2", skip, 8, 8, 3, group=8)
    h = n.conv("pw2", h, 8, 8, 1)
    h = n.add("add2", h, skip, 8)
    h = n.simple("avgpool", "pool2", h, kernel=2)
    h = n.simple("flatten", "flatten", h)
    n.gemm("fc", h, 8 * 2 * 2, 10)
    return n.layers


def _mlp_layers(seed: int) -> list[Layer]:
    n = _Net(seed)
    h = n.gemm("fc1", "input", 32, 16, relu=True)
    n.gemm("fc2", h, 16, 10)
    return n.layers


def _f32(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, np.float32), name)


def _model(
    layers: list[Layer], dialect: str, input_shape: tuple[int, ...], output_shape: tuple[int, ...]
) -> onnx.ModelProto:
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    out = "input"

    def requant(name: str, x: str, rq: Requant, rank: int) -> str:
        if dialect == "deeploy":
            # RequantShift computes floor((x*mul + add + div/2)/div): the graph's add holds
            # the reference's add less div/2.
            inits.extend([_f32(f"{name}.mul", rq.mul), _f32(f"{name}.add", rq.add - rq.div // 2)])
            nodes.append(
                helper.make_node(
                    "RequantShift",
                    [x, f"{name}.mul", f"{name}.add"],
                    [f"{name}.rq"],
                    name=f"{name}.rq",
                    domain="deeploy",
                    div=rq.div,
                    signed=1,
                    n_levels=256,
                )
            )
            result = f"{name}.rq"
            if rq.lower == 0:
                nodes.append(
                    helper.make_node("Relu", [result], [f"{name}.relu"], name=f"{name}.relu")
                )
                result = f"{name}.relu"
            return result
        return _nemo_chain(nodes, inits, name, x, rq, rank)

    for layer in layers:
        ins = list(layer.inputs)
        if layer.kind == "conv":
            assert layer.weights is not None and layer.bias is not None and layer.requant
            inits += [_f32(f"{layer.name}.w", layer.weights), _f32(f"{layer.name}.b", layer.bias)]
            k = layer.weights.shape[2]
            source = ins[0]
            pads = [layer.pads] * 4
            if dialect == "nemo" and layer.pads:
                p = layer.pads
                inits += [
                    numpy_helper.from_array(
                        np.array([0, 0, p, p, 0, 0, p, p], np.int64), f"{layer.name}.pads"
                    ),
                    _f32(f"{layer.name}.padv", np.array(0.0)),
                ]
                nodes.append(
                    helper.make_node(
                        "Pad",
                        [source, f"{layer.name}.pads", f"{layer.name}.padv"],
                        [f"{layer.name}.pad"],
                        name=f"{layer.name}.pad",
                        mode="constant",
                    )
                )
                source, pads = f"{layer.name}.pad", [0, 0, 0, 0]
            nodes.append(
                helper.make_node(
                    "Conv",
                    [source, f"{layer.name}.w", f"{layer.name}.b"],
                    [layer.name],
                    name=layer.name,
                    kernel_shape=[k, k],
                    pads=pads,
                    group=layer.group,
                )
            )
            out = requant(layer.name, layer.name, layer.requant, 4)
        elif layer.kind == "gemm":
            assert layer.weights is not None and layer.bias is not None and layer.requant
            inits += [_f32(f"{layer.name}.w", layer.weights), _f32(f"{layer.name}.b", layer.bias)]
            nodes.append(
                helper.make_node(
                    "Gemm",
                    [ins[0], f"{layer.name}.w", f"{layer.name}.b"],
                    [layer.name],
                    name=layer.name,
                    transB=1,
                )
            )
            out = requant(layer.name, layer.name, layer.requant, 2)
        elif layer.kind == "add":
            assert layer.requant is not None
            nodes.append(helper.make_node("Add", ins, [layer.name], name=layer.name))
            out = requant(layer.name, layer.name, layer.requant, 4)
        elif layer.kind == "maxpool":
            k = layer.attrs["kernel"]
            nodes.append(
                helper.make_node(
                    "MaxPool",
                    ins,
                    [layer.name],
                    name=layer.name,
                    kernel_shape=[k, k],
                    strides=[k, k],
                )
            )
            out = layer.name
        elif layer.kind == "avgpool":
            # The mean of integers is not one: NEMO/DORY spell out the Floor; Deeploy's
            # kernel rounds it (half up) itself.
            k = layer.attrs["kernel"]
            pooled = f"{layer.name}.mean" if dialect == "nemo" else layer.name
            nodes.append(
                helper.make_node(
                    "AveragePool",
                    ins,
                    [pooled],
                    name=layer.name,
                    kernel_shape=[k, k],
                    strides=[k, k],
                )
            )
            if dialect == "nemo":
                nodes.append(
                    helper.make_node("Floor", [pooled], [layer.name], name=f"{layer.name}.floor")
                )
            out = layer.name
        elif layer.kind == "flatten":
            nodes.append(helper.make_node("Flatten", ins, [layer.name], name=layer.name, axis=1))
            out = layer.name
        # Later layers name their inputs by layer name; map those to the final tensor.
        for later in layers:
            later.inputs = [out if i == layer.name else i for i in later.inputs]
    graph = helper.make_graph(
        nodes,
        f"{dialect}_net",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, list(output_shape))],
        inits,
    )
    opsets = [helper.make_opsetid("", 11)]
    if dialect == "deeploy":
        opsets.append(helper.make_opsetid("deeploy", 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 7
    return model


def _nemo_chain(
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    name: str,
    x: str,
    rq: Requant,
    rank: int,
) -> str:
    channels = rq.mul.size
    shape = (1, channels, 1, 1) if rank == 4 else (1, channels)
    inits += [
        _f32(f"{name}.k", rq.mul.reshape(shape)),
        _f32(f"{name}.l", rq.add.reshape(shape)),
        _f32(f"{name}.d", np.array(rq.div)),
        _f32(f"{name}.lo", np.array(rq.lower)),
        _f32(f"{name}.hi", np.array(rq.upper)),
    ]
    steps = [("Mul", f"{name}.k"), ("Add", f"{name}.l"), ("Div", f"{name}.d")]
    current = x
    for op, const in steps:
        nodes.append(
            helper.make_node(
                op, [current, const], [f"{name}.{op.lower()}"], name=f"{name}.{op.lower()}"
            )
        )
        current = f"{name}.{op.lower()}"
    nodes.append(helper.make_node("Floor", [current], [f"{name}.floor"], name=f"{name}.floor"))
    nodes.append(
        helper.make_node(
            "Clip",
            [f"{name}.floor", f"{name}.lo", f"{name}.hi"],
            [f"{name}.clip"],
            name=f"{name}.clip",
        )
    )
    return f"{name}.clip"


def cnn(dialect: str, seed: int = 0) -> tuple[onnx.ModelProto, list[Layer]]:
    layers = _cnn_layers(seed)
    spec = [Layer(**vars(layer)) for layer in layers]
    return _model(layers, dialect, CNN_INPUT, (1, 10)), spec


def mlp(dialect: str, seed: int = 0) -> tuple[onnx.ModelProto, list[Layer]]:
    layers = _mlp_layers(seed)
    spec = [Layer(**vars(layer)) for layer in layers]
    return _model(layers, dialect, MLP_INPUT, (1, 10)), spec
