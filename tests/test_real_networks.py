"""torchvision's ResNet-18 and MobileNetV2 as torch exports them and onnxruntime quantizes them
(hwgen.examples.skeletons: the exporter's graph, random weights), at 32x32: compiled and run by
the c backend, every layer equal to golden and the outputs to onnxruntime's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwgen.backends.c import CBackend
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from hwgen.examples import skeletons
from hwgen.oracle import onnxruntime_outputs


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


def test_skeletons_name_their_missing_network() -> None:
    from hwgen.errors import HwgenError

    with pytest.raises(HwgenError, match=r"no skeleton 'resnet19-32'.*resnet18-32"):
        skeletons.quantized("resnet19-32")
