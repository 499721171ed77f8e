"""torchvision's networks as torch exports them and onnxruntime quantizes them
(hwgen.examples.skeletons: the exporter's graph, random weights), at 32x32: compiled and run by
the c backend, every layer equal to golden and the outputs to onnxruntime's.

Besides ResNet-18 and MobileNetV2, the architectures of real CNNs' other operators: squeeze-
excite and hard-swish (MobileNetV3-Small), SiLU (EfficientNet-B0), channel split and shuffle
(ShuffleNetV2 x0.5), x.mean([2, 3]) (MnasNet 0.5) and fire modules' concats of differently
quantized inputs (SqueezeNet 1.1), in QOperator and QDQ form."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hwgen.agreement import layer_agreement
from hwgen.backends.c import CBackend
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from hwgen.examples import skeletons
from hwgen.examples.quantize import Format
from hwgen.frontend import lower_or_raise
from hwgen.oracle import onnxruntime_outputs
from tests.conftest import QDQ_PROPERTY


@pytest.mark.parametrize("name", ["resnet18-32", "mobilenet_v2-32"])
def test_torchvision_network_runs_bit_exact(tmp_path: Path, name: str) -> None:
    model = skeletons.quantized(name)
    # Small buffers, so that layers run in several tiles; the weights of one block of eight
    # output channels of layer4's 3x3 convolutions (36 KiB) fit a bank.
    options = CompileOptions(array=8, act_kib=8, weight_kib=80, out_kib=2)
    build, comp = compile_build(model, options, tmp_path / "build")
    assert comp.npu is not None
    assert len(comp.npu.layers) > 15, "the convolutions run on the NPU"
    shape = skeletons.input_shape(model)
    x = {"input": np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)}
    result = CBackend().run(build, [x])  # every layer checked against golden as it comes
    for key, want in onnxruntime_outputs(model, x).items():
        np.testing.assert_array_equal(result.outputs[0][key].view(np.uint32), want.view(np.uint32))
    assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}


OPERATOR_NETWORKS = [
    "mobilenet_v3_small-32",
    "efficientnet_b0-32",
    "shufflenet_v2_x0_5-32",
    "mnasnet0_5-32",
    "squeezenet1_1-32",
]


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
@pytest.mark.parametrize("name", OPERATOR_NETWORKS)
def test_real_cnn_operators_run_on_c(tmp_path: Path, name: str, fmt: Format) -> None:
    """QOperator: the outputs equal onnxruntime's. QDQ: onnxruntime runs some groups unfused in
    float, so only the c backend's equality with golden, layer by layer, is asserted here."""
    model = skeletons.quantized(name, fmt=fmt)
    build, _ = compile_build(model, CompileOptions(array=8), tmp_path / "build")
    shape = skeletons.input_shape(model)
    x = {"input": np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)}
    result = CBackend().run(build, [x])  # every layer checked against golden as it comes
    if fmt is Format.QOPERATOR:
        for key, want in onnxruntime_outputs(model, x).items():
            np.testing.assert_array_equal(
                result.outputs[0][key].view(np.uint32), want.view(np.uint32)
            )


@pytest.mark.parametrize("name", OPERATOR_NETWORKS)
def test_real_cnn_qdq_within_one_lsb_per_layer(
    name: str, record_property: Callable[[str, object], None]
) -> None:
    """Each integer op on onnxruntime's own values of its inputs, against onnxruntime's output
    (hwgen.agreement): one LSB at most where onnxruntime runs a group unfused in float."""
    model = skeletons.quantized(name, fmt=Format.QDQ)
    shape = skeletons.input_shape(model)
    x = {"input": np.random.default_rng(2).uniform(-1, 1, shape).astype(np.float32)}
    layers = layer_agreement(model, lower_or_raise(model), x)
    assert len(layers) > 20, "the layers are compared"
    exact, total = sum(r.exact for r in layers), sum(r.total for r in layers)
    worst = max(r.worst for r in layers)
    record_property(QDQ_PROPERTY, (f"{name} QDQ, layer by layer", exact, total, worst))
    assert worst <= 1, [(r.node, r.worst) for r in layers if r.worst > 1]


def test_skeletons_name_their_missing_network() -> None:
    from hwgen.errors import HwgenError

    with pytest.raises(HwgenError, match=r"no skeleton 'resnet19-32'.*resnet18-32"):
        skeletons.quantized("resnet19-32")
