"""Every backend runs the same build on the same inputs and gives the same outputs, each layer
checked against golden as it is produced (golden is the reference itself); the NPU's cycles per
layer, where a backend counts them, are the cycle model's. A backend whose tools are absent
(a board on HWGEN_BOARD_PORT) is skipped with the reason."""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest

from hwgen import extras
from hwgen.backends import NAMES, make_backend
from hwgen.backends.base import Backend
from hwgen.build import Build
from hwgen.builder import compile_build
from hwgen.compiler import Compilation, CompileOptions
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.oracle import onnxruntime_outputs

BOARD_PORT = "HWGEN_BOARD_PORT"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Compilation]:
    model = quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, per_channel=True)
    directory = tmp_path_factory.mktemp("conformance") / "build"
    return compile_build(model, CompileOptions(array=4, l1=1536), directory)


def _backend(name: str) -> Backend:
    if name == "board":
        port = os.environ.get(BOARD_PORT)
        if not port:
            pytest.skip(f"no board: set {BOARD_PORT} to the serial port of a board from hwgen fpga")
        return make_backend("board", port=port)
    backend = make_backend(name)
    if backend.extra and extras.missing(backend.extra):
        pytest.skip(f"the {name} backend needs hwgen[{backend.extra}]")
    return backend


@pytest.mark.parametrize("name", NAMES)
def test_backend_conforms(name: str, compiled: tuple[Build, Compilation]) -> None:
    build, comp = compiled
    backend = _backend(name)
    rng = np.random.default_rng(7)
    inputs = [
        {"input": rng.uniform(-1.5, 1.5, size=networks.CNN_INPUT).astype(np.float32)}
        for _ in range(2)
    ]
    result = backend.run(build, inputs)
    model = onnx.load(str(build.model))
    assert len(result.outputs) == len(inputs)
    for feed, got in zip(inputs, result.outputs, strict=True):
        want = onnxruntime_outputs(model, feed)
        assert set(got) == set(want)
        for key, value in want.items():
            assert got[key].dtype == value.dtype and got[key].shape == value.shape
            np.testing.assert_array_equal(got[key].view(np.uint32), value.view(np.uint32))
    assert comp.npu is not None
    if name == "golden":
        assert result.layer_cycles == {}
    else:  # the functional NPU, the RTL and the board count what the cycle model predicts
        assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}
