"""torchvision networks without torch: the committed skeletons (hwgen/examples/nets/, written by
examples/torchvision_export.py --skeleton) filled with random weights, then quantized by
onnxruntime as a user would. The graph is the exporter's, node for node; only the weights are
new, and they are random in torch's export too.

Weights of a convolution or matrix are normal with variance 2 / fan-in (He), so activations keep
their range through the ReLUs and the quantizer's scales stay sensible; vectors (biases) small
and uniform."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from hwgen.errors import HwgenError
from hwgen.examples.quantize import Format, quantize


def skeleton_dir() -> Path:
    return Path(str(importlib.resources.files("hwgen.examples.nets")))


def names() -> list[str]:
    """The committed skeletons: architecture-size, e.g. resnet18-224."""
    return sorted(path.stem for path in skeleton_dir().glob("*.onnx"))


def _random_tensor(tensor: onnx.TensorProto, rng: np.random.Generator) -> onnx.TensorProto:
    if tensor.data_type != onnx.TensorProto.FLOAT:
        raise HwgenError(f"skeleton tensor '{tensor.name}': only float32 weights are left out")
    dims = tuple(tensor.dims)
    if len(dims) >= 2:
        fan_in = int(np.prod(dims[1:]))
        values = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=dims)
    else:
        values = rng.uniform(-0.05, 0.05, size=dims)
    return numpy_helper.from_array(values.astype(np.float32), tensor.name)


def float_model(name: str, seed: int = 0) -> onnx.ModelProto:
    """The skeleton `name` with every weight it left out drawn at random."""
    path = skeleton_dir() / f"{name}.onnx"
    if not path.is_file():
        raise HwgenError(f"no skeleton '{name}': the skeletons are {', '.join(names())}")
    model = onnx.load(str(path), load_external_data=False)
    rng = np.random.default_rng(seed)
    filled = []
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            filled.append(_random_tensor(tensor, rng))
        else:
            filled.append(tensor)
    del model.graph.initializer[:]
    model.graph.initializer.extend(filled)
    return model


def input_shape(model: onnx.ModelProto) -> tuple[int, ...]:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return tuple(int(d.dim_value) for d in dims)


def quantized(
    name: str,
    *,
    seed: int = 0,
    fmt: Format = Format.QOPERATOR,
    per_channel: bool = True,
    calibration_batches: int = 8,
) -> onnx.ModelProto:
    """The network as `quantize_static` makes it: int8 activations and weights, per-channel
    weight scales by default, calibrated on uniform random images."""
    model = float_model(name, seed)
    return quantize(model, input_shape(model), fmt, per_channel, calibration_batches, seed=seed + 1)
