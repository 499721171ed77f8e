"""Resize and Upsample of 8-bit images against onnxruntime: nearest in every nearest_mode,
linear in every coordinate_transformation_mode, by scales and by sizes; alone (onnxruntime's
NCHW kernel, float32 weights) and after a QLinearConv (its layout optimizer moves the node
channels-last, where the integer kernel runs); the c backend equals golden on each kernel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from onnx import helper, numpy_helper

from hwgen.backends import golden
from hwgen.errors import UnsupportedError
from hwgen.frontend import lower_or_raise
from hwgen.ir import OpKind, ResizeKind
from tests.conftest import assert_bit_exact, ort_run
from tests.test_c_backend import _c_equals_golden
from tests.test_ops_vs_onnxruntime import INT_TYPES, PROPERTY, _ints

TRANSFORMS = ["half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
ELEM = {np.int8: onnx.TensorProto.INT8, np.uint8: onnx.TensorProto.UINT8}


def _model(
    nodes: list[onnx.NodeProto],
    x: np.ndarray,
    consts: dict[str, np.ndarray],
    opset: int,
    outputs: tuple[str, ...] = ("y",),
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "resize",
        [helper.make_tensor_value_info("x", ELEM[x.dtype.type], list(x.shape))],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _resize_node(
    source: str, target: str, by_sizes: bool, opset: int, **attrs: object
) -> onnx.NodeProto:
    if opset < 11:
        return helper.make_node("Resize", [source, "scales"], [target], name="resize", **attrs)
    inputs = [source, "", "", "sizes"] if by_sizes else [source, "", "scales"]
    return helper.make_node("Resize", inputs, [target], name="resize", **attrs)


@st.composite
def resizes(draw: st.DrawFn) -> tuple[dict[str, object], dict[str, np.ndarray], int, bool]:
    """A Resize's attributes, its scales or sizes, its opset and whether by sizes."""
    opset = draw(st.sampled_from([10, 13, 19]))
    mode = draw(st.sampled_from(["nearest", "linear"]))
    attrs: dict[str, object] = {"mode": mode}
    if opset >= 11:
        attrs["coordinate_transformation_mode"] = draw(st.sampled_from(TRANSFORMS))
        if mode == "nearest":
            attrs["nearest_mode"] = draw(st.sampled_from(NEAREST))
    by_sizes = opset >= 11 and draw(st.booleans())
    if by_sizes:
        sizes = [1, 0, draw(st.integers(1, 12)), draw(st.integers(1, 12))]
        return attrs, {"sizes": np.array(sizes, np.int64)}, opset, True
    factor = st.one_of(
        st.sampled_from([0.5, 1.0, 2.0, 3.0, 0.75, 1.5]), st.floats(0.25, 3.5, width=32)
    )
    scales = [1.0, 1.0, draw(factor), draw(factor)]
    return attrs, {"scales": np.array(scales, np.float32)}, opset, False


def _fill_channels(consts: dict[str, np.ndarray], channels: int) -> dict[str, np.ndarray]:
    if "sizes" in consts:
        consts = {"sizes": consts["sizes"].copy()}
        consts["sizes"][1] = channels
    return consts


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), resizes(), st.data())
def test_resize_alone_equals_onnxruntime(
    seed: int,
    dt: type,
    resize: tuple[dict[str, object], dict[str, np.ndarray], int, bool],
    data: st.DataObject,
) -> None:
    attrs, consts, opset, by_sizes = resize
    rng = np.random.default_rng(seed)
    shape = (
        1,
        data.draw(st.integers(1, 3)),
        data.draw(st.integers(1, 7)),
        data.draw(st.integers(1, 7)),
    )
    x = _ints(rng, dt, shape, data.draw(st.booleans()))
    consts = _fill_channels(consts, shape[1])
    if "scales" in consts:  # an empty output is refused, and tested apart
        out = consts["scales"] * np.array(shape, np.float32)
        assume(out.astype(np.int64).min() > 0)
    model = _model([_resize_node("x", "y", by_sizes, opset, **attrs)], x, consts, opset)
    want = ort_run(model, {"x": x})["y"]
    got = golden.run(lower_or_raise(model), {"x": x})["y"]
    assert_bit_exact(got, want, "Resize")


@pytest.mark.parametrize(
    ("rows", "out_rows", "transform", "nearest"),
    [
        (7, 2, "asymmetric", "round_prefer_ceil"),  # 1 / float32(2/7) = 3.4999998: a tie
        (10, 12, "asymmetric", "round_prefer_ceil"),  # 7.4999995: a tie
        (7, 38, "asymmetric", "round_prefer_floor"),  # 3.5000002: a tie
        (23, 14, "asymmetric", "round_prefer_floor"),  # 11.500001: a tie
        (26, 28, "asymmetric", "round_prefer_ceil"),  # row 21 at 19.499998, 1.9e-6 off: no tie
        (20, 6, "half_pixel", "round_prefer_ceil"),
    ],
)
def test_nearest_takes_a_coordinate_within_a_micron_of_a_half_as_the_half(
    rows: int, out_rows: int, transform: str, nearest: str
) -> None:
    x = np.arange(rows, dtype=np.uint8).reshape(1, 1, rows, 1)
    attrs = {"mode": "nearest", "coordinate_transformation_mode": transform}
    sizes = {"sizes": np.array([1, 1, out_rows, 1], np.int64)}
    model = _model([_resize_node("x", "y", True, 13, nearest_mode=nearest, **attrs)], x, sizes, 13)
    want = ort_run(model, {"x": x})["y"]
    assert_bit_exact(golden.run(lower_or_raise(model), {"x": x})["y"], want, "Resize")


def _conv_resize_conv(
    x: np.ndarray, channels: int, attrs: dict[str, object], consts: dict[str, np.ndarray]
) -> onnx.ModelProto:
    """QLinearConv -> Resize -> QLinearConv: onnxruntime runs all three channels-last."""
    dt = x.dtype.type
    zp = np.array(0 if dt is np.int8 else 128, dt)
    weights = np.random.default_rng(channels).integers(-90, 90, (channels, channels, 1, 1))
    consts = {
        **consts,
        "xs": np.array(0.05, np.float32),
        "zp": zp,
        "w": weights.astype(np.int8),
        "ws": np.array(0.01, np.float32),
        "wz": np.array(0, np.int8),
        "ys": np.array(0.3, np.float32),
    }
    conv = ["xs", "zp", "w", "ws", "wz", "ys", "zp"]
    nodes = [
        helper.make_node("QLinearConv", ["x", *conv], ["c"], name="conv1"),
        _resize_node("c", "r", "sizes" in consts, 13, **attrs),
        helper.make_node("QLinearConv", ["r", "ys", "zp", *conv[2:]], ["y"], name="conv2"),
    ]
    return _model(nodes, x, consts, 13, outputs=("y", "r"))


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.data())
def test_linear_resize_between_convs_equals_onnxruntime(
    seed: int, dt: type, data: st.DataObject
) -> None:
    """The channels-last kernel's integer weights: golden takes them where onnxruntime does."""
    rng = np.random.default_rng(seed)
    channels = data.draw(st.integers(1, 9))
    shape = (1, channels, data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7)))
    x = _ints(rng, dt, shape, False)
    attrs = {
        "mode": "linear",
        "coordinate_transformation_mode": data.draw(st.sampled_from(TRANSFORMS)),
    }
    factor = st.floats(0.25, 3.5, width=32)
    consts = {"scales": np.array([1, 1, data.draw(factor), data.draw(factor)], np.float32)}
    assume((consts["scales"] * np.array(shape, np.float32)).astype(np.int64).min() > 0)
    model = _conv_resize_conv(x, channels, attrs, consts)
    lowered = lower_or_raise(model)
    want = ort_run(model, {"x": x})
    got = golden.run(lowered, {"x": x})
    for name in ("r", "y"):
        assert_bit_exact(got[name], want[name], name)


def test_the_kernel_follows_onnxruntime_layout() -> None:
    """Alone the NCHW kernel; after a QLinearConv the channels-last one: the two results differ
    on this input, and each equals onnxruntime where it runs."""
    x = _ints(np.random.default_rng(4), np.uint8, (1, 8, 6, 6), False)
    attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    consts = {"scales": np.array([1, 1, 1.5, 2.5], np.float32)}
    between = _conv_resize_conv(x, 8, attrs, consts)
    alone = _model([_resize_node("x", "y", False, 13, **attrs)], x, consts, 13)
    resizes = [
        next(n for n in lower_or_raise(m).nodes if n.op is OpKind.RESIZE) for m in (alone, between)
    ]
    kinds = [n.attrs.kind for n in resizes]  # type: ignore[union-attr]
    assert kinds == [ResizeKind.LINEAR_FLOAT, ResizeKind.LINEAR_FIXED]
    seen: dict[str, np.ndarray] = {}
    golden.run(lower_or_raise(between), {"x": x}, lambda node, v: seen.update({node.outputs[0]: v}))
    conv_out = seen["c"]
    floating = ort_run(
        _model([_resize_node("x", "y", False, 13, **attrs)], conv_out, consts, 13), {"x": conv_out}
    )["y"]
    fixed = seen["r"]
    assert not np.array_equal(fixed, floating)
    assert_bit_exact(fixed, ort_run(between, {"x": x})["r"], "r")


@pytest.mark.parametrize(
    ("mode", "ops"),
    [
        ("nearest", [OpKind.RESIZE]),
        ("linear", [OpKind.DEQUANTIZE, OpKind.RESIZE, OpKind.QUANTIZE]),
    ],
)
def test_qdq_resize(mode: str, ops: list[OpKind]) -> None:
    """DQ -> Resize -> Q with one scale and zero point: onnxruntime drops the pair around a
    nearest Resize and picks stored integers, but interpolates a linear one in float32 between
    them; hwgen folds and keeps them alike."""
    x = _ints(np.random.default_rng(5), np.uint8, (1, 2, 5, 4), False)
    consts = {
        "s": np.array(0.02, np.float32),
        "z": np.array(131, np.uint8),
        "scales": np.array([1, 1, 1.7, 2.2], np.float32),
    }
    nodes = [
        helper.make_node("DequantizeLinear", ["x", "s", "z"], ["d"], name="dq"),
        _resize_node("d", "f", False, 13, mode=mode),
        helper.make_node("QuantizeLinear", ["f", "s", "z"], ["y"], name="q"),
    ]
    model = _model(nodes, x, consts, 13)
    lowered = lower_or_raise(model)
    assert [n.op for n in lowered.nodes] == ops
    assert_bit_exact(golden.run(lowered, {"x": x})["y"], ort_run(model, {"x": x})["y"], "y")


@pytest.mark.parametrize(
    ("attrs", "between"),
    [
        ({"mode": "nearest", "nearest_mode": "round_prefer_ceil"}, False),
        ({"mode": "linear", "coordinate_transformation_mode": "align_corners"}, False),
        ({"mode": "linear", "coordinate_transformation_mode": "half_pixel"}, True),
        ({"mode": "linear", "coordinate_transformation_mode": "asymmetric"}, True),
    ],
    ids=["nearest", "linear-float", "linear-fixed", "linear-float-wc"],
)
@pytest.mark.parametrize("dt", INT_TYPES)
def test_host_resize_equals_golden(
    tmp_path: Path, attrs: dict[str, object], between: bool, dt: type
) -> None:
    x = _ints(np.random.default_rng(6), dt, (1, 5, 7, 6), False)
    keep_h = attrs.get("coordinate_transformation_mode") == "asymmetric"
    consts = {"scales": np.array([1, 1, 1 if keep_h else 1.6, 0.7], np.float32)}
    if between:
        model = _conv_resize_conv(x, 5, attrs, consts)
    else:
        model = _model([_resize_node("x", "y", False, 13, **attrs)], x, consts, 13)
    _c_equals_golden(tmp_path, model, {"x": x})


@pytest.mark.parametrize(
    ("attrs", "scales", "why"),
    [
        ({"mode": "cubic"}, [1, 1, 2, 2], "mode 'cubic'"),
        (
            {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"},
            [1, 1, 2, 2],
            "tf_crop_and_resize",
        ),
        ({"mode": "nearest"}, [1, 2, 2, 2], "H and W only"),
    ],
)
def test_unsupported_resizes_are_named(
    attrs: dict[str, object], scales: list[float], why: str
) -> None:
    x = np.zeros((1, 2, 3, 3), np.int8)
    model = _model(
        [_resize_node("x", "y", False, 13, **attrs)],
        x,
        {"scales": np.array(scales, np.float32)},
        13,
    )
    with pytest.raises(UnsupportedError, match=why) as info:
        lower_or_raise(model)
    assert info.value.node == "resize"
