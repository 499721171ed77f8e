"""The example networks, quantized by onnxruntime's quantize_static: golden vs onnxruntime.

QOperator graphs are bit-exact. QDQ graphs are compared in output LSBs: the golden is the fused
integer semantics, and onnxruntime runs some groups unfused in float.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import onnx
import pytest

from hwgen.backends import golden
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.frontend import lower_or_raise
from tests.conftest import QDQ_PROPERTY, assert_bit_exact, ort_run

INPUTS_PER_MODEL = 20

NETWORKS: dict[str, tuple[Callable[[], onnx.ModelProto], tuple[int, ...]]] = {
    "mlp": (networks.mlp, networks.MLP_INPUT),
    "mlp_matmul_add": (networks.mlp_matmul_add, networks.MLP_INPUT),
    "cnn": (networks.cnn, networks.CNN_INPUT),
}


@cache
def quantized(name: str, fmt: Format, per_channel: bool, unsigned: bool = False) -> onnx.ModelProto:
    build, shape = NETWORKS[name]
    return quantize(build(), shape, fmt, per_channel, unsigned_activations=unsigned)


def _inputs(shape: tuple[int, ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    # Beyond the calibration range too, so that the input quantizer saturates.
    return [rng.uniform(-1.5, 1.5, size=shape).astype(np.float32) for _ in range(INPUTS_PER_MODEL)]


@pytest.mark.parametrize("unsigned", [False, True], ids=["int8", "uint8"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_qoperator_bit_exact(name: str, per_channel: bool, unsigned: bool) -> None:
    model = quantized(name, Format.QOPERATOR, per_channel, unsigned)
    graph = lower_or_raise(model)
    for i, x in enumerate(_inputs(NETWORKS[name][1], seed=i_seed(name))):
        got = golden.run(graph, {"input": x})
        want = ort_run(model, {"input": x})
        for out in graph.outputs:
            assert_bit_exact(got[out], want[out], f"{name} input #{i} output {out}")


def i_seed(name: str) -> int:
    return sum(map(ord, name))


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_qdq_within_one_lsb(
    name: str, per_channel: bool, record_property: Callable[[str, object], None]
) -> None:
    model = quantized(name, Format.QDQ, per_channel)
    graph = lower_or_raise(model)
    out = graph.outputs[0]
    final = graph.producers()[out]
    (stored,) = final.inputs
    quant = graph.type_of(stored).quant
    assert quant is not None
    exact = total = 0
    worst = 0
    for x in _inputs(NETWORKS[name][1], seed=i_seed(name) + 1):
        got = golden.run(graph, {"input": x})[out]
        want = ort_run(model, {"input": x})[out]
        lsb = np.rint(np.abs(got.astype(np.float64) - want) / float(quant.scale[0]))
        exact += int((lsb == 0).sum())
        total += lsb.size
        worst = max(worst, int(lsb.max()))
    label = f"{name} {'per-channel' if per_channel else 'per-tensor'} QDQ"
    record_property(QDQ_PROPERTY, (label, exact, total, worst))
    assert worst <= 1, f"{label}: golden and onnxruntime differ by {worst} LSB"
