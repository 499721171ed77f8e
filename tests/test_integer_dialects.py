"""Integer-only graphs (Deeploy, NEMO/DORY): the golden model equals an independent exact
integer reference written here, NEMO graphs equal onnxruntime, and graphs that mix dialects or
carry non-integers where integers are required are refused by name."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hwgen.backends import golden
from hwgen.errors import HwgenError
from hwgen.examples import integer_networks as inet
from hwgen.frontend import Dialect, lower_model, lower_or_raise
from hwgen.ir.types import DType
from hwgen.npu.config import RequantMode
from hwgen.oracle import onnxruntime_outputs
from tests.builds import build_of, functional_program

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


def _mean(total: np.ndarray, count: int, dialect: str) -> np.ndarray:
    """NEMO floors the mean; Deeploy's C kernel computes (sum + count / 2) / count, and C
    division truncates toward zero."""
    if dialect == "nemo":
        return total // count
    biased = total + count // 2
    truncated = [-(-v // count) if v < 0 else v // count for v in biased.ravel().tolist()]
    return np.array(truncated, np.int64).reshape(biased.shape)


def reference(spec: list[inet.Layer], x: np.ndarray, dialect: str) -> np.ndarray:
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
        elif layer.kind == "avgpool":
            k = layer.attrs["kernel"]
            n, c, h, w = src[0].shape
            total = src[0].reshape(n, c, h // k, k, w // k, k).sum(axis=(3, 5))
            out = _mean(total, k * k, dialect)
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
        np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x, dialect))


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
    with pytest.raises(HwgenError, match=r"--dialect onnxruntime: .* is NEMO.s"):
        lower_or_raise(model, Dialect.ONNXRUNTIME)


@pytest.mark.parametrize("m", [4, 8])
@pytest.mark.parametrize("dialect", ["deeploy", "nemo"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_c_backend_equals_reference(tmp_path: Path, name: str, dialect: str, m: int) -> None:
    """The generated C, with the NPU in its shift requant mode, on every layer."""
    build, shape = BUILDERS[name]
    model, spec = build(dialect)
    built, comp = build_of(model, tmp_path, array=m, l1=512)
    assert comp.npu is not None
    assert built.config.requant is RequantMode.SHIFT
    assert comp.npu.layers  # the convolutions and matrix products run on the NPU
    program = functional_program(built)
    for x in _inputs(shape, 5):
        got = program.run_checked({"input": x})  # every layer against golden
        (value,) = got.values()
        np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x, dialect))


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
    np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x, "deeploy"))


def test_requantshift_attributes_as_tensors() -> None:
    """Deeploy's exporter writes div, n_levels_out and signed as TENSOR attributes."""
    model, spec = inet.mlp("deeploy")
    for node in model.graph.node:
        if node.op_type == "RequantShift":
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.INT:
                    value = np.array(attribute.i, np.int64)
                    attribute.CopyFrom(
                        helper.make_attribute(attribute.name, numpy_helper.from_array(value))
                    )
    assert any(a.type == onnx.AttributeProto.TENSOR for n in model.graph.node for a in n.attribute)
    x = _inputs(inet.MLP_INPUT, 1)[0]
    (value,) = golden.run(lower_or_raise(model), {"input": x}).values()
    np.testing.assert_array_equal(value.astype(np.int64), reference(spec, x, "deeploy"))


def _weightless_add(
    values: list[float] | None = None, output: int = TensorProto.INT32
) -> onnx.ModelProto:
    """x + y (+ a constant, where given): float containers, no requantization; the output
    declared int32, as Deeploy writes it (not valid ONNX, and Deeploy's graphs need not be)."""
    inputs = ["x", "y"]
    initializers = []
    if values is not None:
        initializers.append(numpy_helper.from_array(np.array(values, np.float32), "k"))
        inputs = ["x", "k"]
    graph = helper.make_graph(
        [helper.make_node("Add", inputs, ["z"], name="add")],
        "add",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4]) for n in ("x", "y")][
            : 2 if values is None else 1
        ],
        [helper.make_tensor_value_info("z", output, [1, 4])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_integer_graph_without_requantization_is_detected() -> None:
    """Deeploy's single-kernel graphs carry integers in float tensors and hold no RequantShift:
    integer-valued constants (or none) make them integer graphs, fractional ones float."""
    assert lower_model(_weightless_add()).dialect is Dialect.DEEPLOY
    assert lower_model(_weightless_add([1, -2, 3, 4])).dialect is Dialect.DEEPLOY
    with pytest.raises(HwgenError, match="float-only graph"):
        lower_or_raise(_weightless_add([0.5, -2, 3, 4], output=TensorProto.FLOAT))


def test_uint8_input_of_an_integer_graph() -> None:
    """Whether a float-carried input is int8 or uint8 the graph does not say: int8 unless told."""
    model = _weightless_add()
    x = np.array([[200, 0, 255, 3]], np.float32)
    y = np.array([[1, 2, 3, 4]], np.float32)
    with pytest.raises(
        HwgenError, match=re.escape("200.0 at [0, 0], where an integer in [-128, 127]")
    ):
        golden.run(lower_or_raise(model), {"x": x, "y": y})
    graph = lower_or_raise(model, input_types={"x": DType.UINT8})
    (z,) = golden.run(graph, {"x": x, "y": y}).values()
    np.testing.assert_array_equal(z, [[201, 2, 258, 7]])
    with pytest.raises(HwgenError, match=re.escape("--input-type names ['w']")):
        lower_or_raise(model, input_types={"w": DType.UINT8})


def _global_pool_model(dialect: str, container: int) -> onnx.ModelProto:
    """Input -> GlobalAveragePool (-> Floor in NEMO) -> AveragePool 3x3 stride 2 pad 1 (-> Floor),
    integers in `container` tensors at both ends."""
    nodes = []
    x = "input"
    for name, op, attrs in (
        ("avg", "AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ("gap", "GlobalAveragePool", {}),
    ):
        mean = f"{name}.mean" if dialect == "nemo" else name
        nodes.append(helper.make_node(op, [x], [mean], name=name, **attrs))
        if dialect == "nemo":
            nodes.append(helper.make_node("Floor", [mean], [name], name=f"{name}.floor"))
        x = name
    if dialect == "deeploy":  # something only Deeploy writes, so that the graph says its dialect
        nodes.append(
            helper.make_node(
                "RequantShift",
                [x],
                ["out"],
                name="rq",
                domain="deeploy",
                mul=[1.0],
                add=[0.0],
                div=1,
                signed=1,
                n_levels=256,
            )
        )
        x = "out"
    graph = helper.make_graph(
        nodes,
        "pools",
        [helper.make_tensor_value_info("input", container, [1, 3, 7, 5])],
        [helper.make_tensor_value_info(x, container, [1, 3, 1, 1])],
    )
    opsets = [helper.make_opsetid("", 11), helper.make_opsetid("deeploy", 1)]
    return helper.make_model(graph, opset_imports=opsets[: 2 if dialect == "deeploy" else 1])


def _pool_reference(x: np.ndarray, dialect: str) -> np.ndarray:
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    rows = [r for r in range(0, 7 + 2 - 3 + 1, 2)]
    cols = [c for c in range(0, 5 + 2 - 3 + 1, 2)]
    pooled = np.zeros((1, 3, len(rows), len(cols)), np.int64)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            # count_include_pad = 0: only the input elements under the window count
            count = (min(r + 3, 8) - max(r, 1)) * (min(c + 3, 6) - max(c, 1))
            pooled[:, :, i, j] = _mean(
                xp[:, :, r : r + 3, c : c + 3].sum(axis=(2, 3)), count, dialect
            )
    return _mean(pooled.sum(axis=(2, 3)), pooled.shape[2] * pooled.shape[3], dialect).reshape(
        1, 3, 1, 1
    )


@pytest.mark.parametrize(
    ("dialect", "container"),
    [("deeploy", TensorProto.FLOAT), ("deeploy", TensorProto.INT64), ("nemo", TensorProto.FLOAT)],
)
def test_integer_average_pooling(tmp_path: Path, dialect: str, container: int) -> None:
    """Padded and global average pooling, NEMO's floor and Deeploy's half-up rounding, in float32
    and (Deeploy's) int64 containers: golden and the generated C against the reference (and
    onnxruntime for NEMO's graph)."""
    model = _global_pool_model(dialect, container)
    graph = lower_or_raise(model)
    built, _ = build_of(model, tmp_path, array=4, l1=512)
    program = functional_program(built)
    numpy_type = np.float32 if container == TensorProto.FLOAT else np.int64
    rng = np.random.default_rng(11)
    for _ in range(10):
        x = rng.integers(-128, 128, size=(1, 3, 7, 5)).astype(numpy_type)
        want = _pool_reference(x, dialect)
        for got in (golden.run(graph, {"input": x}), program.run_checked({"input": x})):
            (value,) = got.values()
            assert value.dtype == numpy_type
            np.testing.assert_array_equal(value.astype(np.int64), want)
        if dialect == "nemo" and container == TensorProto.FLOAT:
            (ort,) = onnxruntime_outputs(model, {"input": x}).values()
            np.testing.assert_array_equal(ort.astype(np.int64), want)


def test_nemo_average_pool_of_int64_is_refused() -> None:
    """ONNX's AveragePool takes floats only: onnxruntime refuses the graph, so NEMO's
    semantics, which are onnxruntime's, give it none."""
    with pytest.raises(HwgenError, match=r"onnxruntime refuses the model: .*\(avg\)"):
        lower_model(_global_pool_model("nemo", TensorProto.INT64))


def test_nemo_average_pool_without_floor_is_refused() -> None:
    model = _global_pool_model("nemo", TensorProto.FLOAT)
    floor = next(n for n in model.graph.node if n.name == "gap.floor")
    model.graph.node.remove(floor)
    model.graph.output[0].name = "gap.mean"
    with pytest.raises(HwgenError, match=r"node 'gap'.*must be followed by a Floor"):
        lower_or_raise(model)


def _conv1d_model() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A Deeploy-style 1-D network: Conv (kernel 3, stride 2, pads 1 and 2, dilation 1) ->
    RequantShift (per channel) -> MaxPool (kernel 2, stride 2), on [1, 4, 21]."""
    rng = np.random.default_rng(11)
    p = {
        "w": rng.integers(-128, 128, size=(8, 4, 3)),
        "b": rng.integers(-2000, 2000, size=8),
        "mul": rng.integers(1, 200, size=8),
        "add": rng.integers(-500, 500, size=8),
    }
    tensor = numpy_helper.from_array
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "w", "b"],
            ["acc"],
            name="conv",
            kernel_shape=[3],
            strides=[2],
            pads=[1, 2],
            dilations=[1],
        ),
        helper.make_node(
            "RequantShift",
            ["acc", "mul", "add"],
            ["rq"],
            name="rq",
            div=tensor(np.array(256, np.int64)),
            n_levels_out=tensor(np.array(256, np.int64)),
            signed=tensor(np.array(1, np.int64)),
        ),
        helper.make_node("MaxPool", ["rq"], ["y"], name="pool", kernel_shape=[2], strides=[2]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv1d",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 21])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 5])],
        [
            tensor(p["w"].astype(np.float32), "w"),
            tensor(p["b"].astype(np.float32), "b"),
            tensor(p["mul"].astype(np.float32).reshape(1, 8, 1), "mul"),
            tensor(p["add"].astype(np.float32).reshape(1, 8, 1), "add"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), p


def _conv1d_reference(x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """The same network in plain integer loops."""
    padded = np.pad(x[0].astype(np.int64), ((0, 0), (1, 2)))
    length = (padded.shape[1] - 3) // 2 + 1
    acc = np.array(
        [
            [
                int((p["w"][o] * padded[:, 2 * t : 2 * t + 3]).sum()) + p["b"][o]
                for t in range(length)
            ]
            for o in range(8)
        ]
    )
    rq = np.clip(np.floor((acc * p["mul"][:, None] + p["add"][:, None] + 128) / 256), -128, 127)
    pooled = rq[:, : 2 * (length // 2)].reshape(8, -1, 2).max(axis=2)
    return pooled[None].astype(np.int64)


def test_1d_network_as_height_1_images(tmp_path: Path) -> None:
    """1-D convolution, requantization and pooling run as 2-D ones on [N, C, 1, L]: golden and
    the c backend (the convolution on the NPU) against integer loops."""
    model, p = _conv1d_model()
    lowering = lower_model(model)
    assert lowering.dialect is Dialect.DEEPLOY and lowering.supported, lowering.errors
    # hwgen check reports the user's nodes, not the rewrite's reshapes
    assert [r.name for r in lowering.reports] == ["conv", "rq", "pool"]
    built, comp = build_of(model, tmp_path, array=4)
    assert comp.npu is not None and comp.npu.layers
    program = functional_program(built)
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.integers(-128, 128, size=(1, 4, 21)).astype(np.float32)
        want = _conv1d_reference(x, p)
        (golden_y,) = golden.run(lowering.graph, {"x": x}).values()
        np.testing.assert_array_equal(golden_y.astype(np.int64), want)
        (c_y,) = program.run_checked({"x": x}).values()
        assert c_y.shape == (1, 8, 5)
        np.testing.assert_array_equal(c_y.astype(np.int64), want)


def _rounded_mean(total: int, count: int) -> int:
    """Deeploy's mean of integers, from its templates: half up where the count is a power of
    two (it shifts), half away from zero otherwise (it divides in C)."""
    if count & (count - 1) == 0:
        return (2 * total + count) // (2 * count)
    magnitude = (2 * abs(total) + count) // (2 * count)
    return magnitude if total >= 0 else -magnitude


@pytest.mark.parametrize(
    ("op", "axes", "keepdims"),
    [
        ("ReduceMean", [2, 3], 1),  # 20 elements: divided
        ("ReduceMean", [-1], 0),  # 4 elements: shifted, ties up
        ("ReduceMean", [1], 0),  # 6 channels, to [1, H, W]: an image of height 1
        ("ReduceSum", [1, 3], 0),
    ],
)
def test_integer_reductions(tmp_path: Path, op: str, axes: list[int], keepdims: int) -> None:
    x = np.random.default_rng(8).integers(-128, 128, size=(1, 6, 5, 4))
    x[0, :, 0, :] = [[-1, -1, 0, 0]] * 6  # -0.5 over 4 (along W): half up, to 0
    x[0, :, 1, :] = [[1, 1, 0, 0]] * 6  # 0.5 over 4: to 1
    x[0, :, 2, 1] = [-1, -1, -1, 0, 0, 0]  # -0.5 over 6 (along C): away from zero, to -1
    x[0, :, 2, 2] = [1, 1, 1, 0, 0, 0]  # 0.5 over 6: to 1
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node(op, ["x"], ["y"], name="reduce", axes=axes, keepdims=keepdims)],
            "reduce",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        ),
        opset_imports=[helper.make_opsetid("", 13 if op == "ReduceSum" else 11)],
    )
    if op == "ReduceSum":  # axes became an input in opset 13
        model.graph.node[0].ClearField("attribute")
        model.graph.node[0].attribute.append(helper.make_attribute("keepdims", keepdims))
        model.graph.node[0].input.append("axes")
        model.graph.initializer.append(numpy_helper.from_array(np.array(axes, np.int64), "axes"))
    sums = x.sum(axis=tuple(axes), keepdims=bool(keepdims))
    count = x.size // sums.size
    want = sums if op == "ReduceSum" else np.vectorize(lambda s: _rounded_mean(int(s), count))(sums)
    lowering = lower_model(model)
    assert lowering.dialect is Dialect.DEEPLOY and lowering.supported, lowering.errors
    (golden_y,) = golden.run(lowering.graph, {"x": x.astype(np.float32)}).values()
    np.testing.assert_array_equal(golden_y.astype(np.int64), want)
    built, _ = build_of(model, tmp_path, array=4)
    (c_y,) = functional_program(built).run_checked({"x": x.astype(np.float32)}).values()
    np.testing.assert_array_equal(c_y.astype(np.int64), want)


def test_integer_add_of_a_broadcast_constant(tmp_path: Path) -> None:
    """x + k for a per-channel k of shape [C, 1, 1]: the constant in the output's storage
    order (NHWC), in the host C's tiles of a small L1."""
    k = np.arange(-3, 3).reshape(6, 1, 1) * 1000
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("Add", ["x", "k"], ["y"], name="add")],
            "add",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 5, 4])],
            [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 6, 5, 4])],
            [numpy_helper.from_array(k.astype(np.float32), "k")],
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    x = np.random.default_rng(2).integers(-128, 128, size=(1, 6, 5, 4))
    want = x + k[None]
    lowering = lower_model(model)
    assert lowering.dialect is Dialect.DEEPLOY and lowering.supported, lowering.errors
    (golden_y,) = golden.run(lowering.graph, {"x": x.astype(np.float32)}).values()
    np.testing.assert_array_equal(golden_y, want)
    built, _ = build_of(model, tmp_path, array=4, l1=64)
    layer = next(layer for layer in built.network.layers if layer.node == "add")
    assert layer.rows_per_tile * layer.row_elements < x.size  # several tiles
    (c_y,) = functional_program(built).run_checked({"x": x.astype(np.float32)}).values()
    np.testing.assert_array_equal(c_y, want)


def test_deeploy_hardswish(tmp_path: Path) -> None:
    """iHardswish with Deeploy's exporter's constants (3 and 6 at scale 255, 1/6 as 33),
    values worked by hand: x * clamp(x + 765, 0, 1530) * 33."""
    attrs = {"three": 765, "six": 1530, "one_over_six": 33}
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("iHardswish", ["x"], ["y"], name="hswish", **attrs)],
            "hswish",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 1, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 1, 4])],
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    x = np.array([[[[-128, -1, 0, 127]]]], np.float32)
    # -128: 637 * 33 = 21021; -1: 764 * 33 = 25212; 127: 892 * 33 = 29436
    want = np.array([[[[-128 * 21021, -25212, 0, 127 * 29436]]]])
    graph = lower_or_raise(model)
    (golden_y,) = golden.run(graph, {"x": x}).values()
    np.testing.assert_array_equal(golden_y.astype(np.int64), want)
    built, _ = build_of(model, tmp_path, array=4)
    (c_y,) = functional_program(built).run_checked({"x": x}).values()
    np.testing.assert_array_equal(c_y.astype(np.int64), want)


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((1, 2, 3, 5), (1, 2, 5, 4)), ((1, 3, 5), (1, 5, 2)), ((3, 5), (5, 2))],
    ids=["nchw", "ncl", "matrix"],
)
def test_matmul_of_two_runtime_tensors(
    tmp_path: Path, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    """Attention's products: both operands computed at run time, batched over leading axes,
    read from the host's storage of each (NHWC for images)."""
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("MatMul", ["a", "b"], ["y"], name="matmul")],
            "matmul",
            [
                helper.make_tensor_value_info("a", TensorProto.FLOAT, list(a_shape)),
                helper.make_tensor_value_info("b", TensorProto.INT32, list(b_shape)),
            ],
            [helper.make_tensor_value_info("y", TensorProto.INT32, None)],
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    rng = np.random.default_rng(6)
    a = rng.integers(-128, 128, size=a_shape)
    b = rng.integers(-128, 128, size=b_shape)
    feed = {"a": a.astype(np.float32), "b": b.astype(np.int32)}
    want = np.matmul(a, b)
    lowering = lower_model(model)
    assert lowering.dialect is Dialect.DEEPLOY and lowering.supported, lowering.errors
    (golden_y,) = golden.run(lowering.graph, feed).values()
    np.testing.assert_array_equal(golden_y, want)
    built, _ = build_of(model, tmp_path, array=4)
    (c_y,) = functional_program(built).run_checked(feed).values()
    np.testing.assert_array_equal(c_y, want)


def test_an_input_beyond_int8_names_the_input_type_that_holds_it() -> None:
    """A float container does not say its values are unsigned: the error says how to."""
    model, _ = inet.mlp("nemo")
    graph = lower_model(model).graph
    name = graph.inputs[0]
    x = np.zeros(graph.type_of(name).shape, np.float32)
    x.reshape(-1)[3] = 200.0
    with pytest.raises(HwgenError, match=rf"--input-type {name}=uint8\?"):
        golden.run(graph, {name: x})
    x.reshape(-1)[3] = -np.inf  # not a number a type could hold: no hint, and no crash
    with pytest.raises(HwgenError, match=r"carries -inf") as info:
        golden.run(graph, {name: x})
    assert "--input-type" not in str(info.value)
