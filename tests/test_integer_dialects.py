"""Integer-only graphs (Deeploy, NEMO/DORY): the golden model equals an independent exact
integer reference written here, NEMO graphs equal onnxruntime, and graphs that mix dialects or
carry non-integers where integers are required are refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import helper, numpy_helper

from examples import integer_networks as inet
from hwgen.backends import golden
from hwgen.backends.c import HostProgram
from hwgen.backends.functional_npu import FunctionalNpu
from hwgen.backends.host import build_network
from hwgen.compiler import CompileOptions
from hwgen.errors import HwgenError
from hwgen.frontend import Dialect, lower_model, lower_or_raise
from hwgen.npu.config import RequantMode
from hwgen.oracle import onnxruntime_outputs

BUILDERS = {"cnn": (inet.cnn, inet.CNN_INPUT), "mlp": (inet.mlp, inet.MLP_INPUT)}


def _requant(acc: np.ndarray, rq: inet.Requant, channel_axis: int) -> np.ndarray:
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    mul, add = rq.mul.reshape(shape), rq.add.reshape(shape)
    return np.clip((acc * mul + add) // rq.div, rq.lower, rq.upper)


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int, group: int) -> np.ndarray:
    n, _, h, wd = x.shape
    o, cg, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    out = np.zeros((n, o, oh, ow), np.int64)
    og = o // group
    for oc in range(o):
        g = oc // og
        for ky in range(k):
            for kx in range(k):
                patch = xp[:, g * cg : (g + 1) * cg, ky : ky + oh, kx : kx + ow]
                out[:, oc] += np.einsum("nchw,c->nhw", patch, w[oc, :, ky, kx])
        out[:, oc] += b[oc]
    return out


def reference(spec: list[inet.Layer], x: np.ndarray) -> np.ndarray:
    """The network in plain integer arithmetic (int64, floor division, clip)."""
    values: dict[str, np.ndarray] = {"input": x.astype(np.int64)}
    for layer in spec:
        src = [values[i] for i in layer.inputs]
        if layer.kind == "conv":
            assert layer.weights is not None and layer.bias is not None and layer.requant
            acc = _conv(src[0], layer.weights, layer.bias, layer.pads, layer.group)
            out = _requant(acc, layer.requant, 1)
        elif layer.kind == "gemm":
            assert layer.weights is not None and layer.bias is not None and layer.requant
            out = _requant(src[0] @ layer.weights.T + layer.bias, layer.requant, 1)
        elif layer.kind == "add":
            assert layer.requant is not None
            out = _requant(src[0] + src[1], layer.requant, 1)
        elif layer.kind == "maxpool":
            k = layer.attrs["kernel"]
            n, c, h, w = src[0].shape
            out = src[0].reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))
        else:  # flatten
            out = src[0].reshape(src[0].shape[0], -1)
        values[layer.name] = out
    return values[spec[-1].name]


def _inputs(shape: tuple[int, ...], count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [rng.integers(-128, 128, size=shape).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("dialect", ["deeploy", "nemo"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_golden_equals_exact_integer_reference(dialect: str, name: str) -> None:
    build, shape = BUILDERS[name]
    model, spec = build(dialect)
    lowering = lower_model(model)
    assert lowering.supported, [e.message for e in lowering.errors]
    assert lowering.dialect is Dialect(dialect)
    for x in _inputs(shape, 20):
        got = golden.run(lowering.graph, {"input": x})
        (value,) = got.values()
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_nemo_graphs_equal_onnxruntime(name: str) -> None:
    build, shape = BUILDERS[name]
    model, _ = build("nemo")
    graph = lower_or_raise(model)
    for x in _inputs(shape, 20):
        got = golden.run(graph, {"input": x})
        want = onnxruntime_outputs(model, {"input": x})
        for key, value in want.items():
            np.testing.assert_array_equal(got[key].view(np.uint32), value.view(np.uint32))


def test_mixed_dialects_are_refused() -> None:
    model, _ = inet.mlp("deeploy")
    model.graph.node.append(
        helper.make_node("QuantizeLinear", ["x2", "s", "z"], ["q"], name="stray_q")
    )
    with pytest.raises(HwgenError, match=r"mixes dialects.*stray_q"):
        lower_model(model)


def test_non_integer_weight_is_refused_with_its_value() -> None:
    model, _ = inet.mlp("nemo")
    for i, init in enumerate(model.graph.initializer):
        if init.name == "fc1.w":
            w = numpy_helper.to_array(init).copy()
            w[0, 3] = 0.5
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(w, "fc1.w"))
    with pytest.raises(HwgenError, match=r"node 'fc1' \(Gemm\).*carries 0\.5 at \[0, 3\]"):
        lower_or_raise(model)


def test_non_integer_input_is_refused_at_run_time() -> None:
    model, _ = inet.mlp("deeploy")
    x = np.zeros(inet.MLP_INPUT, np.float32)
    x[0, 7] = 1.25
    with pytest.raises(HwgenError, match=r"'input' carries .*1\.25.* at \[0, 7\]"):
        golden.run(lower_or_raise(model), {"input": x})


def test_unsupported_deeploy_op_is_named() -> None:
    model, _ = inet.mlp("deeploy")
    last = model.graph.output[0].name
    model.graph.node.append(
        helper.make_node("iSoftmax", [last], ["p"], name="softmax", domain="deeploy")
    )
    model.graph.output[0].name = "p"
    lowering = lower_model(model)
    assert "integer op iSoftmax (Deeploy) has no lowering" in lowering.errors[0].message


def test_dialect_can_be_forced() -> None:
    model, _ = inet.mlp("nemo")
    assert lower_model(model, Dialect.NEMO).dialect is Dialect.NEMO
    with pytest.raises(HwgenError, match="float-only graph"):  # as onnxruntime's dialect
        lower_or_raise(model, Dialect.ONNXRUNTIME)


@pytest.mark.parametrize("m", [4, 8])
@pytest.mark.parametrize("dialect", ["deeploy", "nemo"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_c_backend_equals_reference(tmp_path: Path, name: str, dialect: str, m: int) -> None:
    """The generated C, with the NPU in its shift requant mode, on every layer."""
    build, shape = BUILDERS[name]
    model, spec = build(dialect)
    built = build_network(lower_or_raise(model), CompileOptions(array=m, l1=512), tmp_path)
    assert built.compilation.npu is not None
    assert built.compilation.npu.config.requant is RequantMode.SHIFT
    assert built.compilation.npu.layers  # the convolutions and matrix products run on the NPU
    program = HostProgram(
        built.library, built.network, built.graph, FunctionalNpu(built.compilation.npu.config)
    )
    for x in _inputs(shape, 5):
        got = program.run_checked({"input": x})  # every layer against golden
        (value,) = got.values()
        np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x))


def test_requantshift_parameters_as_attributes() -> None:
    """Deeploy writes mul and add as tensor inputs or as attributes: both mean the same."""
    model, spec = inet.mlp("deeploy")
    graph = model.graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "RequantShift":
            mul, add = values[node.input[1]], values[node.input[2]]
            del node.input[1:]
            node.attribute.extend(
                [
                    helper.make_attribute("mul", [float(v) for v in mul]),
                    helper.make_attribute("add", [float(v) for v in add]),
                ]
            )
    x = _inputs(inet.MLP_INPUT, 1)[0]
    (value,) = golden.run(lower_or_raise(model), {"input": x}).values()
    np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x))
