"""Small float networks with seeded random weights, in the shapes edge networks take."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...], fan_in: int) -> str:
        value = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(np.float32)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def bias(self, name: str, size: int) -> str:
        value = self.rng.normal(0.0, 0.1, size=size).astype(np.float32)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def conv(
        self, x: str, name: str, cin: int, cout: int, k: int, *, stride: int = 1, group: int = 1
    ) -> str:
        w = self.weight(f"{name}.w", (cout, cin // group, k, k), fan_in=(cin // group) * k * k)
        b = self.bias(f"{name}.b", cout)
        pad = k // 2
        return self.node(
            "Conv",
            [x, w, b],
            name,
            kernel_shape=[k, k],
            pads=[pad] * 4,
            strides=[stride, stride],
            group=group,
        )

    def gemm(self, x: str, name: str, cin: int, cout: int) -> str:
        w = self.weight(f"{name}.w", (cout, cin), fan_in=cin)
        b = self.bias(f"{name}.b", cout)
        return self.node("Gemm", [x, w, b], name, transB=1)

    def linear(self, x: str, name: str, cin: int, cout: int) -> str:
        """x @ W + b as PyTorch exports nn.Linear on inputs of more than two dimensions, and as
        every transformer writes it: a MatMul and an Add of the bias, broadcast over rows."""
        w = self.weight(f"{name}.w", (cin, cout), fan_in=cin)
        product = self.node("MatMul", [x, w], f"{name}.matmul")
        return self.node("Add", [product, self.bias(f"{name}.b", cout)], name)

    def model(
        self, name: str, input_shape: tuple[int, ...], output: str, output_shape: tuple[int, ...]
    ) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, list(output_shape))],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        return model


MLP_INPUT = (1, 64)
CNN_INPUT = (1, 3, 16, 16)


def mlp(seed: int = 0) -> onnx.ModelProto:
    """64 -> 32 -> 16 -> 10 fully connected, ReLU between."""
    b = _Builder(seed)
    h = b.node("Relu", [b.gemm("input", "fc1", 64, 32)], "fc1.relu")
    h = b.node("Relu", [b.gemm(h, "fc2", 32, 16)], "fc2.relu")
    out = b.gemm(h, "fc3", 16, 10)
    return b.model("mlp", MLP_INPUT, out, (1, 10))


def mlp_matmul_add(seed: int = 0) -> onnx.ModelProto:
    """The MLP with its layers written as MatMul + Add."""
    b = _Builder(seed)
    h = b.node("Relu", [b.linear("input", "fc1", 64, 32)], "fc1.relu")
    h = b.node("Relu", [b.linear(h, "fc2", 32, 16)], "fc2.relu")
    out = b.linear(h, "fc3", 16, 10)
    return b.model("mlp_matmul_add", MLP_INPUT, out, (1, 10))


def cnn(seed: int = 0) -> onnx.ModelProto:
    """Conv, max pool, a depthwise-separable block with a residual add, average pool,
    a strided conv, global average pool and a classifier."""
    b = _Builder(seed)
    h = b.node("Relu", [b.conv("input", "conv1", 3, 16, 3)], "conv1.relu")
    skip = b.node("MaxPool", [h], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Relu", [b.conv(skip, "dw2", 16, 16, 3, group=16)], "dw2.relu")
    h = b.conv(h, "pw2", 16, 16, 1)
    h = b.node("Relu", [b.node("Add", [h, skip], "add2")], "add2.relu")
    h = b.node("AveragePool", [h], "pool2", kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Relu", [b.conv(h, "conv3", 16, 32, 3, stride=2)], "conv3.relu")
    h = b.node("GlobalAveragePool", [h], "gap")
    h = b.node("Flatten", [h], "flatten", axis=1)
    out = b.gemm(h, "fc", 32, 10)
    return b.model("cnn", CNN_INPUT, out, (1, 10))


RESNET8_INPUT = (1, 3, 32, 32)


def resnet8(seed: int = 0) -> onnx.ModelProto:
    """The MLPerf Tiny image-classification ResNet (batch norm folded into the convolutions,
    no final softmax): 3 residual stacks of 16, 32 and 64 channels, about 12.5 M MACs."""
    b = _Builder(seed)
    h = b.node("Relu", [b.conv("input", "conv0", 3, 16, 3)], "conv0.relu")
    channels = 16
    for stack, width in enumerate((16, 32, 64), start=1):
        stride = 1 if stack == 1 else 2
        name = f"stack{stack}"
        y = b.node(
            "Relu", [b.conv(h, f"{name}.conv1", channels, width, 3, stride=stride)], f"{name}.relu1"
        )
        y = b.conv(y, f"{name}.conv2", width, width, 3)
        skip = (
            h
            if stride == 1 and width == channels
            else b.conv(h, f"{name}.shortcut", channels, width, 1, stride=stride)
        )
        h = b.node("Relu", [b.node("Add", [y, skip], f"{name}.add")], f"{name}.relu2")
        channels = width
    h = b.node("GlobalAveragePool", [h], "gap")
    h = b.node("Flatten", [h], "flatten", axis=1)
    out = b.gemm(h, "fc", 64, 10)
    return b.model("resnet8", RESNET8_INPUT, out, (1, 10))


SEGMENTER_INPUT = (1, 3, 16, 16)


def segmenter(seed: int = 0) -> onnx.ModelProto:
    """A segmentation head in the manner of FPN and U-Net decoders: features at 1/4 scale
    brought back up by a bilinear Resize (added to the 1/2-scale skip) and a nearest one, then
    a per-pixel classifier over 4 classes."""
    b = _Builder(seed)
    b.inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "x2"))
    h = b.node("Relu", [b.conv("input", "stem", 3, 8, 3, stride=2)], "stem.relu")
    skip = h
    h = b.node("Relu", [b.conv(h, "down", 8, 16, 3, stride=2)], "down.relu")
    h = b.conv(h, "lateral", 16, 8, 1)
    h = b.node(
        "Resize", [h, "", "x2"], "up1", mode="linear", coordinate_transformation_mode="half_pixel"
    )
    h = b.node("Relu", [b.node("Add", [h, skip], "merge")], "merge.relu")
    h = b.node("Relu", [b.conv(h, "smooth", 8, 8, 3)], "smooth.relu")
    h = b.node(
        "Resize",
        [h, "", "x2"],
        "up2",
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    out = b.conv(h, "classes", 8, 4, 1)
    return b.model("segmenter", SEGMENTER_INPUT, out, (1, 4, 16, 16))
