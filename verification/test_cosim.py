"""Host C + RTL co-simulation of the example networks equals the golden model on every layer
(MLP and CNN, QOperator and QDQ, per-tensor and per-channel, M = 4 and 8, an L1 small enough
for multi-tile host layers), and the RTL's cycles per NPU layer equal the cycle model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest

from examples import networks
from examples.quantize import Format, quantize
from hwgen.backends import golden
from hwgen.backends.cosim import run_cosim
from hwgen.compiler import CompileOptions, compile_graph
from hwgen.frontend import load

NETWORKS: dict[str, tuple[Callable[[], onnx.ModelProto], tuple[int, ...], int]] = {
    "mlp": (networks.mlp, networks.MLP_INPUT, 96),
    "cnn": (networks.cnn, networks.CNN_INPUT, 1536),
}

CASES = [
    ("mlp", Format.QOPERATOR, True, 4),
    ("mlp", Format.QDQ, False, 8),
    ("cnn", Format.QOPERATOR, True, 4),
    ("cnn", Format.QOPERATOR, False, 8),
    ("cnn", Format.QDQ, True, 8),
    ("cnn", Format.QDQ, False, 4),
]


@pytest.mark.parametrize(
    ("name", "fmt", "per_channel", "m"),
    CASES,
    ids=[f"{n}-{f.value}-{'pc' if p else 'pt'}-m{m}" for n, f, p, m in CASES],
)
def test_cosim_equals_golden(
    tmp_path: Path, name: str, fmt: Format, per_channel: bool, m: int
) -> None:
    build, shape, l1 = NETWORKS[name]
    path = tmp_path / "model.onnx"
    onnx.save(quantize(build(), shape, fmt, per_channel), str(path))
    graph = load(path)
    rng = np.random.default_rng(m)
    inputs = [{"input": rng.uniform(-1.5, 1.5, size=shape).astype(np.float32)} for _ in range(3)]
    options = CompileOptions(array=m, l1=l1)
    result = run_cosim(path, inputs, options, stall=0.3 if fmt is Format.QDQ else 0.0)
    for feed, got in zip(inputs, result.outputs, strict=True):
        want = golden.run(graph, feed)
        for key, value in want.items():
            np.testing.assert_array_equal(got[key].view(np.uint32), value.view(np.uint32))
    comp = compile_graph(load(path), options)
    assert comp.npu is not None
    model_cycles = {layer.node: layer.cycles for layer in comp.npu.layers}
    assert result.layer_cycles == model_cycles
