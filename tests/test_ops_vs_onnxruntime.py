"""Property tests: every quantized op of the golden model against onnxruntime, bit for bit,
over random shapes, scales and zero points, with ties, saturation and accumulators > 2^24."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from onnx import helper, numpy_helper

from hwgen.backends import golden
from hwgen.frontend import lower_or_raise
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.sim_models.linear import conv2d_acc
from hwgen.sim_models.pool import MAX_GLOBAL_POOL_SCALE, MIN_GLOBAL_POOL_SCALE, global_avgpool_scale
from tests.conftest import ort_run
from tests.single_node import (
    MS,
    check_against_onnxruntime,
    qlinear_softmax_model,
    single_node_model,
)

PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INT_TYPES = [np.int8, np.uint8]


def _scale(draw: st.DrawFn) -> np.float32:
    """Powers of two make exact ties likely; arbitrary floats exercise the float32 rounding."""
    if draw(st.booleans()):
        return np.float32(2.0 ** draw(st.integers(-10, 3)))
    return np.float32(draw(st.floats(0.0001220703125, 4.0, width=32)))


def _ints(
    rng: np.random.Generator, dtype: type, shape: tuple[int, ...], extreme: bool
) -> np.ndarray:
    info = np.iinfo(dtype)
    if extreme:  # saturate the accumulator and the output with the range's ends
        return rng.choice(np.array([info.min, info.max], dtype=dtype), size=shape)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def _zp(draw: st.DrawFn, dtype: type) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.array(draw(st.integers(int(info.min), int(info.max))), dtype=dtype)


def _qparams(draw: st.DrawFn, dtype: type, tensors: str) -> dict[str, np.ndarray]:
    """Per-tensor `<t>_scale` and `<t>_zp` for each tensor letter."""
    params: dict[str, np.ndarray] = {}
    for t in tensors:
        params[f"{t}_scale"] = np.array(_scale(draw), np.float32)
        params[f"{t}_zp"] = _zp(draw, dtype)
    return params


@st.composite
def qlinearconv_case(draw: st.DrawFn) -> tuple[dict, dict, dict]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xdt = draw(st.sampled_from(INT_TYPES))
    extreme = draw(st.booleans())
    depthwise = draw(st.booleans())
    cin = draw(st.integers(1, 6))
    group = cin if depthwise else draw(st.sampled_from([g for g in (1, 2, 3) if cin % g == 0]))
    cout = group * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    strides = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    dilations = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    pads = [draw(st.integers(0, 2)) for _ in range(4)]
    h = draw(st.integers(dilations[0] * (kh - 1) + 1, 9))
    w = draw(st.integers(dilations[1] * (kw - 1) + 1, 9))
    x = _ints(rng, xdt, (1, cin, h, w), extreme)
    wq = _ints(rng, np.int8, (cout, cin // group, kh, kw), extreme)
    per_channel = draw(st.booleans())
    w_scale = np.array([_scale(draw) for _ in range(cout if per_channel else 1)], np.float32)
    consts = {
        "x_scale": np.array(_scale(draw), np.float32),
        "x_zp": _zp(draw, xdt),
        "w": wq,
        "w_scale": w_scale if per_channel else w_scale.reshape(()),
        "w_zp": np.zeros(cout if per_channel else (), np.int8),
        "y_scale": np.array(_scale(draw), np.float32),
        "y_zp": _zp(draw, xdt),
    }
    order = ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp"]
    if draw(st.booleans()):
        consts["bias"] = rng.integers(-(2**20), 2**20, size=cout, dtype=np.int32)
        order.append("bias")
    attrs = {
        "group": group,
        "strides": strides,
        "dilations": dilations,
        "pads": pads,
        "kernel_shape": [kh, kw],
        "order": order,
    }
    return {"x": x}, consts, attrs


@PROPERTY
@given(qlinearconv_case())
def test_qlinearconv(case: tuple[dict, dict, dict]) -> None:
    data, consts, attrs = case
    order = attrs.pop("order")
    check_against_onnxruntime(single_node_model("QLinearConv", data, consts, order, **attrs), data)


def test_qlinearconv_accumulator_above_2_pow_24() -> None:
    """|acc| above 2^24, where f32(acc) rounds: the rule keeps that rounding, onnxruntime agrees."""
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, size=(1, 64, 6, 6), dtype=np.int8)
    w = rng.integers(-128, 128, size=(8, 64, 3, 3), dtype=np.int8)
    bias = (rng.choice([-1, 1], size=8) * rng.integers(2**24, 2**25, size=8)).astype(np.int32)
    consts = {
        "x_scale": np.float32(1.0),
        "x_zp": np.int8(0),
        "w": w,
        "w_scale": np.float32(1.0),
        "w_zp": np.int8(0),
        "y_scale": np.float32(2.0**18),
        "y_zp": np.int8(0),
        "b": bias,
    }
    order = ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "b"]
    model = single_node_model(
        "QLinearConv",
        {"x": x},
        {k: np.asarray(v) for k, v in consts.items()},
        order,
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
    )
    got = check_against_onnxruntime(model, {"x": x})
    acc = conv2d_acc(x, w, Conv2dGeometry((3, 3), pads=(1, 1, 1, 1)), bias=bias)
    assert np.abs(acc).min() > 2**24 and (acc % 2).any()  # odd values above 2^24 do round
    assert len(np.unique(got)) > 16


@st.composite
def matmul_case(draw: st.DrawFn) -> tuple[dict, dict]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = draw(st.sampled_from(INT_TYPES))
    extreme = draw(st.booleans())
    m, k, n = (
        draw(st.integers(1, 8)),
        draw(st.sampled_from([1, 3, 16, 300, 1100])),
        draw(st.integers(1, 8)),
    )
    batch = draw(st.sampled_from([(), (2,)]))
    data = {"a": _ints(rng, dt, (*batch, m, k), extreme), "b": _ints(rng, dt, (k, n), extreme)}
    return data, _qparams(draw, dt, "aby")


@PROPERTY
@given(matmul_case())
def test_qlinearmatmul(case: tuple[dict, dict]) -> None:
    data, consts = case
    order = ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"]
    check_against_onnxruntime(single_node_model("QLinearMatMul", data, consts, order), data)


@PROPERTY
@given(matmul_case())
def test_matmulinteger(case: tuple[dict, dict]) -> None:
    data, consts = case
    consts = {"a_zp": consts["a_zp"], "b_zp": consts["b_zp"]}
    model = single_node_model("MatMulInteger", data, consts, ["a", "b", "a_zp", "b_zp"], opset=13)
    check_against_onnxruntime(model, data)


@st.composite
def qgemm_case(draw: st.DrawFn) -> tuple[dict, dict, dict, list[str]]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = draw(st.sampled_from(INT_TYPES))
    extreme = draw(st.booleans())
    m, k, n = (
        draw(st.integers(1, 6)),
        draw(st.sampled_from([1, 5, 64, 1100])),
        draw(st.integers(1, 6)),
    )
    trans_a, trans_b = draw(st.booleans()), draw(st.booleans())
    per_column = draw(st.booleans())
    a = _ints(rng, dt, (k, m) if trans_a else (m, k), extreme)
    b = _ints(rng, np.int8, (n, k) if trans_b else (k, n), extreme)
    b_scale = np.array([_scale(draw) for _ in range(n if per_column else 1)], np.float32)
    consts = {
        "a_scale": np.array(_scale(draw), np.float32),
        "a_zp": _zp(draw, dt),
        "b": b,
        "b_scale": b_scale if per_column else b_scale.reshape(()),
        "b_zp": np.zeros(n if per_column else (), np.int8),
    }
    order = ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp"]
    bias_shape = draw(st.sampled_from([None, (n,), (1, n), (m, n)]))
    if bias_shape is not None:
        consts["c"] = rng.integers(-(2**20), 2**20, size=bias_shape, dtype=np.int32)
    order.append("c" if bias_shape is not None else "")
    if draw(st.booleans()):
        consts["y_scale"] = np.array(_scale(draw), np.float32)
        consts["y_zp"] = _zp(draw, dt)
        order += ["y_scale", "y_zp"]
    alpha = draw(st.sampled_from([1.0, 0.5, 0.3]))
    attrs = {"transA": int(trans_a), "transB": int(trans_b), "alpha": alpha}
    return {"a": a}, consts, attrs, order


@PROPERTY
@given(qgemm_case())
def test_qgemm(case: tuple[dict, dict, dict, list[str]]) -> None:
    data, consts, attrs, order = case
    model = single_node_model("QGemm", data, consts, order, domain=MS, **attrs)
    check_against_onnxruntime(model, data)


@st.composite
def qlinearadd_case(draw: st.DrawFn) -> tuple[dict, dict]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = draw(st.sampled_from(INT_TYPES))
    shape = (1, draw(st.integers(1, 4)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    b_shape = draw(st.sampled_from([shape, (1, shape[1], 1, 1), (shape[3],)]))
    extreme = draw(st.booleans())
    data = {"a": _ints(rng, dt, shape, extreme), "b": _ints(rng, dt, b_shape, extreme)}
    return data, _qparams(draw, dt, "aby")


@PROPERTY
@given(qlinearadd_case())
def test_qlinearadd(case: tuple[dict, dict]) -> None:
    data, consts = case
    order = ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"]
    check_against_onnxruntime(single_node_model("QLinearAdd", data, consts, order, domain=MS), data)


@st.composite
def pool_case(draw: st.DrawFn) -> tuple[dict, dict, dict]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dt = draw(st.sampled_from(INT_TYPES))
    k = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    pads = [draw(st.integers(0, k[i % 2] - 1)) for i in range(4)]
    shape = (1, draw(st.integers(1, 3)), draw(st.integers(k[0], 10)), draw(st.integers(k[1], 10)))
    data = {"x": _ints(rng, dt, shape, draw(st.booleans()))}
    consts = {
        "x_scale": np.array(_scale(draw), np.float32),
        "x_zp": _zp(draw, dt),
        "y_scale": np.array(_scale(draw), np.float32),
        "y_zp": _zp(draw, dt),
    }
    attrs = {
        "kernel_shape": k,
        "pads": pads,
        "strides": [draw(st.integers(1, 2)), draw(st.integers(1, 2))],
        "ceil_mode": int(draw(st.booleans())),
    }
    return data, consts, attrs


@PROPERTY
@given(pool_case(), st.booleans())
def test_qlinear_averagepool(case: tuple[dict, dict, dict], include_pad: bool) -> None:
    data, consts, attrs = case
    if list(data["x"].shape[2:]) == attrs["kernel_shape"] and not any(attrs["pads"]):
        # One window over the whole input: onnxruntime takes its global-pool path, which
        # refuses scales outside its range.
        count = attrs["kernel_shape"][0] * attrs["kernel_shape"][1]
        scale = global_avgpool_scale(float(consts["x_scale"]), float(consts["y_scale"]), count)
        assume(MIN_GLOBAL_POOL_SCALE <= scale < MAX_GLOBAL_POOL_SCALE)
    model = single_node_model(
        "QLinearAveragePool",
        data,
        consts,
        ["x", "x_scale", "x_zp", "y_scale", "y_zp"],
        domain=MS,
        count_include_pad=int(include_pad),
        **attrs,
    )
    check_against_onnxruntime(model, data)


@PROPERTY
@given(pool_case())
def test_qlinear_global_averagepool(case: tuple[dict, dict, dict]) -> None:
    data, consts, _ = case
    count = data["x"].shape[2] * data["x"].shape[3]
    scale = global_avgpool_scale(float(consts["x_scale"]), float(consts["y_scale"]), count)
    assume(MIN_GLOBAL_POOL_SCALE <= scale < MAX_GLOBAL_POOL_SCALE)  # onnxruntime refuses others
    model = single_node_model(
        "QLinearGlobalAveragePool",
        data,
        consts,
        ["x", "x_scale", "x_zp", "y_scale", "y_zp"],
        domain=MS,
    )
    check_against_onnxruntime(model, data)


@PROPERTY
@given(pool_case(), st.integers(1, 2))
def test_maxpool(case: tuple[dict, dict, dict], dilation: int) -> None:
    data, _, attrs = case
    attrs["dilations"] = [dilation, dilation]
    k = attrs["kernel_shape"]
    if (
        data["x"].shape[2] < dilation * (k[0] - 1) + 1
        or data["x"].shape[3] < dilation * (k[1] - 1) + 1
    ):
        attrs["dilations"] = [1, 1]
    check_against_onnxruntime(
        single_node_model("MaxPool", data, {}, ["x"], opset=13, **attrs), data
    )


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.booleans(), st.data())
def test_quantize_dequantize(seed: int, dt: type, per_axis: bool, draw: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    shape = (2, 3, 4)
    channels = 3 if per_axis else 1
    scale = np.array([_scale(draw.draw) for _ in range(channels)], np.float32)
    zp = np.array([_zp(draw.draw, dt) for _ in range(channels)], dt)
    if not per_axis:
        scale, zp = scale.reshape(()), zp.reshape(())
    # Multiples of half a step hit the ties; the wide range saturates.
    halves = rng.integers(-700, 700, size=shape).astype(np.float32) * np.float32(0.5)
    x = (halves * (scale.reshape(1, -1, 1) if per_axis else scale)).astype(np.float32)
    x[0, 0, :2] = [np.float32(1e9), np.float32(-1e9)]
    q = single_node_model(
        "QuantizeLinear", {"x": x}, {"s": scale, "z": zp}, ["x", "s", "z"], axis=1
    )
    stored = check_against_onnxruntime(q, {"x": x})
    dq = single_node_model(
        "DequantizeLinear", {"q": stored}, {"s": scale, "z": zp}, ["q", "s", "z"], axis=1
    )
    check_against_onnxruntime(dq, {"q": stored})


@pytest.mark.parametrize(("dt", "row"), [(np.int8, [127, 127]), (np.uint8, [0, 0])])
def test_qlinear_softmax_tie_at_the_tables_top(dt: type, row: list[int]) -> None:
    """Two equal values, a scale floor(1 / y_scale) of 3: exactly 1.5 in real numbers, which
    float32 reaches only with onnxruntime's table, whose shift takes its log in float."""
    x = np.array([row, row], dt)
    consts = {
        "xs": np.array(1.0, np.float32),
        "xz": np.array(0, dt),
        "ys": np.array(0.3125, np.float32),
        "yz": np.array(0 if dt is np.uint8 else -128, dt),
    }
    model = qlinear_softmax_model({"x": x}, consts)
    check_against_onnxruntime(model, {"x": x})


@pytest.mark.parametrize("dt", INT_TYPES)
def test_relu_and_clip_on_stored_integers(dt: type) -> None:
    x = np.arange(np.iinfo(dt).min, np.iinfo(dt).max + 1, dtype=dt).reshape(1, 1, 16, 16)
    if dt is np.int8:  # onnxruntime has no uint8 Relu
        check_against_onnxruntime(
            single_node_model("Relu", {"x": x}, {}, ["x"], opset=14), {"x": x}
        )
    bounds = {"lo": np.array(np.iinfo(dt).min + 7, dt), "hi": np.array(100, dt)}
    clip = single_node_model("Clip", {"x": x}, bounds, ["x", "lo", "hi"], opset=13)
    check_against_onnxruntime(clip, {"x": x})


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.data())
def test_data_movement(seed: int, dt: type, draw: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    x = _ints(rng, dt, (2, 3, 4, 5), False)
    perm = draw.draw(st.permutations(range(4)))
    check_against_onnxruntime(
        single_node_model("Transpose", {"x": x}, {}, ["x"], perm=list(perm)), {"x": x}
    )
    shape = np.array(
        draw.draw(st.sampled_from([[6, -1], [0, 3, 20], [-1], [2, 0, 0, 5]])), np.int64
    )
    check_against_onnxruntime(
        single_node_model("Reshape", {"x": x}, {"s": shape}, ["x", "s"]), {"x": x}
    )
    axis = draw.draw(st.integers(-4, 3))
    check_against_onnxruntime(
        single_node_model("Flatten", {"x": x}, {}, ["x"], axis=axis), {"x": x}
    )
    other = _ints(rng, dt, (2, 3, 4, 5), False)
    both = {"x": x, "o": other}
    check_against_onnxruntime(single_node_model("Concat", both, {}, ["x", "o"], axis=axis), both)
    pads = np.array(draw.draw(st.lists(st.integers(-1, 2), min_size=8, max_size=8)), np.int64)
    pads[[0, 4]] = np.maximum(pads[[0, 4]], 0)  # never crop the size-2 axis to nothing
    value = np.array(draw.draw(st.integers(int(np.iinfo(dt).min), int(np.iinfo(dt).max))), dt)
    pad = single_node_model("Pad", {"x": x}, {"p": pads, "v": value}, ["x", "p", "v"])
    check_against_onnxruntime(pad, {"x": x})
    thin = {"t": x[:, :1]}
    axes = np.array([1], np.int64)
    check_against_onnxruntime(single_node_model("Squeeze", thin, {"a": axes}, ["t", "a"]), thin)
    check_against_onnxruntime(
        single_node_model("Unsqueeze", {"x": x}, {"a": np.array([0, -1], np.int64)}, ["x", "a"]),
        {"x": x},
    )


@PROPERTY
@given(qlinearconv_case())
def test_convinteger(case: tuple[dict, dict, dict]) -> None:
    """The same convolutions with the int32 accumulator as output (per-tensor zero points:
    onnxruntime refuses per-channel ones)."""
    data, consts, attrs = case
    attrs.pop("order")
    inputs = {"x": data["x"], "w": consts["w"]}
    zps = {"xz": consts["x_zp"], "wz": np.zeros((), consts["w"].dtype)}
    if data["x"].dtype == np.int8:  # onnxruntime's ConvInteger takes uint8 activations only
        inputs["x"] = (data["x"].astype(np.int16) + 128).astype(np.uint8)
        zps["xz"] = np.array(int(consts["x_zp"]) + 128, np.uint8)
    model = single_node_model(
        "ConvInteger",
        {"x": inputs["x"]},
        {"w": inputs["w"], **zps},
        ["x", "w", "xz", "wz"],
        opset=13,
        **attrs,
    )
    check_against_onnxruntime(model, {"x": inputs["x"]})


@pytest.mark.parametrize("dt", INT_TYPES)
def test_qlinearconcat_with_shared_quantization(dt: type) -> None:
    rng = np.random.default_rng(3)
    parts = {f"x{i}": _ints(rng, dt, (1, 2 + i, 3, 3), False) for i in range(3)}
    scale, zp = np.array(0.05, np.float32), np.array(3, dt)
    consts = {"s": scale, "z": zp}
    order = ["s", "z"] + [n for name in parts for n in (name, "s", "z")]
    model = single_node_model("QLinearConcat", parts, consts, order, domain=MS, axis=1)
    check_against_onnxruntime(model, parts)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.data())
def test_qlinearconcat_requantizing(seed: int, dt: type, draw: st.DataObject) -> None:
    """Inputs of scales and zero points of their own, some equal to the output's (copied), at
    the range's ends (saturating): onnxruntime's Q(DQ(v)) table, bit for bit."""
    rng = np.random.default_rng(seed)
    count = draw.draw(st.integers(2, 4))
    parts = {
        f"x{i}": _ints(rng, dt, (1, 1 + i, 2, 3), draw.draw(st.booleans())) for i in range(count)
    }
    consts = {"ys": np.array(_scale(draw.draw), np.float32), "yz": _zp(draw.draw, dt)}
    order = ["ys", "yz"]
    for i, name in enumerate(parts):
        shared = draw.draw(st.booleans())
        consts[f"s{i}"] = consts["ys"] if shared else np.array(_scale(draw.draw), np.float32)
        consts[f"z{i}"] = consts["yz"] if shared else _zp(draw.draw, dt)
        order += [name, f"s{i}", f"z{i}"]
    model = single_node_model("QLinearConcat", parts, consts, order, domain=MS, axis=1)
    check_against_onnxruntime(model, parts)


def _qdq_group(
    op: str, x: np.ndarray, consts: dict, opset: int = 13, **attrs: object
) -> onnx.ModelProto:
    """DequantizeLinear(x, xs, xz) -> op -> QuantizeLinear(ys, yz): a group onnxruntime's
    quantizer leaves in float (or onnxruntime fuses), for an input like `x`."""
    nodes = [
        helper.make_node("DequantizeLinear", ["x", "xs", "xz"], ["xf"], name="dq"),
        helper.make_node(op, ["xf"], ["f"], name="f", **attrs),
        helper.make_node("QuantizeLinear", ["f", "ys", "yz"], ["y"], name="q"),
    ]
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    graph = helper.make_graph(
        nodes,
        op.lower(),
        [helper.make_tensor_value_info("x", elem, list(x.shape))],
        [helper.make_empty_tensor_value_info("y")],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


@PROPERTY
@given(pool_case(), st.sampled_from([0, 1]))
def test_reduce_mean_group_within_one_lsb(case: tuple[dict, dict, dict], keepdims: int) -> None:
    """onnxruntime takes this mean in float; hwgen in integers, as QLinearGlobalAveragePool
    does: one LSB apart at most (ties and the float sum's rounding), never more."""
    data, consts, _ = case
    x = data["x"]
    count = x.shape[2] * x.shape[3]
    scale = global_avgpool_scale(float(consts["x_scale"]), float(consts["y_scale"]), count)
    assume(MIN_GLOBAL_POOL_SCALE <= scale < MAX_GLOBAL_POOL_SCALE)
    renamed = {
        "xs": consts["x_scale"],
        "xz": consts["x_zp"],
        "ys": consts["y_scale"],
        "yz": consts["y_zp"],
    }
    x = np.ascontiguousarray(x)
    # x.mean([2, 3]) as onnxruntime's quantizer leaves it, in QOperator and QDQ graphs alike
    model = _qdq_group("ReduceMean", x, renamed, axes=[2, 3], keepdims=keepdims)
    got = golden.run(lower_or_raise(model), {"x": x})["y"]
    want = ort_run(model, {"x": x})["y"]
    assert got.shape == want.shape
    assert np.abs(got.astype(np.int32) - want.astype(np.int32)).max() <= 1


BROADCASTS = [
    ((1, 3, 4, 5), (1, 3, 4, 5)),
    ((1, 3, 4, 5), (1, 3, 1, 1)),  # squeeze-excite's gate
    ((1, 3, 1, 1), (1, 3, 4, 5)),
    ((1, 3, 4, 5), ()),
    ((2, 7), (7,)),
    ((1, 40), (1, 40)),  # more than one 16-byte vector, and a tail
]


@PROPERTY
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(INT_TYPES),
    st.sampled_from(BROADCASTS),
    st.booleans(),
    st.data(),
)
def test_qlinearmul(
    seed: int,
    dt: type,
    shapes: tuple[tuple[int, ...], tuple[int, ...]],
    extreme: bool,
    draw: st.DataObject,
) -> None:
    """Broadcasting (per channel, scalar, elementwise), saturation at the range's ends, ties
    from power-of-two scales: MLAS's float32 steps, bit for bit."""
    rng = np.random.default_rng(seed)
    data = {"a": _ints(rng, dt, shapes[0], extreme), "b": _ints(rng, dt, shapes[1], extreme)}
    consts = {
        "sa": np.array(_scale(draw.draw), np.float32),
        "za": _zp(draw.draw, dt),
        "sb": np.array(_scale(draw.draw), np.float32),
        "zb": _zp(draw.draw, dt),
        "sy": np.array(_scale(draw.draw), np.float32),
        "zy": _zp(draw.draw, dt),
    }
    order = ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"]
    check_against_onnxruntime(single_node_model("QLinearMul", data, consts, order, domain=MS), data)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.data())
def test_qlinear_sigmoid_and_leaky_relu(seed: int, dt: type, draw: st.DataObject) -> None:
    """com.microsoft's lookup-table ops, their tables taken from onnxruntime itself."""
    rng = np.random.default_rng(seed)
    data = {"x": _ints(rng, dt, (1, 3, 4, 5), draw.draw(st.booleans()))}
    consts = {
        "xs": np.array(_scale(draw.draw), np.float32),
        "xz": _zp(draw.draw, dt),
        "ys": np.array(_scale(draw.draw), np.float32),
        "yz": _zp(draw.draw, dt),
    }
    op = draw.draw(st.sampled_from(["QLinearSigmoid", "QLinearLeakyRelu"]))
    attrs = {"alpha": 0.1} if op == "QLinearLeakyRelu" else {}
    model = single_node_model(op, data, consts, ["x", "xs", "xz", "ys", "yz"], domain=MS, **attrs)
    check_against_onnxruntime(model, data)


UNARY = ["Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Elu", "Softplus", "Erf"]


@pytest.mark.parametrize("op", UNARY)
@pytest.mark.parametrize("dt", INT_TYPES)
def test_unary_qdq_group_equals_onnxruntime(op: str, dt: type) -> None:
    """DQ -> f -> Q, as onnxruntime's quantizer leaves hard-swish, SiLU's sigmoid, ...: the
    table onnxruntime computes for the group alone, so equal to it bit for bit here."""
    consts = {
        "xs": np.array(0.043, np.float32),
        "xz": np.array(np.iinfo(dt).min + 100, dt),
        "ys": np.array(0.0071, np.float32),
        "yz": np.array(np.iinfo(dt).min + 7, dt),
    }
    x = np.arange(np.iinfo(dt).min, np.iinfo(dt).max + 1).astype(dt).reshape(1, 4, 8, 8)
    model = _qdq_group(op, x, consts, opset=14)
    lowered = lower_or_raise(model)
    assert [n.op.value for n in lowered.nodes] == ["lookup"]
    np.testing.assert_array_equal(golden.run(lowered, {"x": x})["y"], ort_run(model, {"x": x})["y"])


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.data())
def test_split(seed: int, dt: type, draw: st.DataObject) -> None:
    """Split of a stored 8-bit tensor (ShuffleNet's channel split): given sizes, equal parts,
    num_outputs' uneven chunks; any axis, negative ones too."""
    rng = np.random.default_rng(seed)
    shape = (1, draw.draw(st.integers(2, 7)), draw.draw(st.integers(1, 4)), 5)
    data = {"x": _ints(rng, dt, shape, False)}
    axis = draw.draw(st.integers(-4, 3))
    extent = shape[axis]
    mode = draw.draw(st.sampled_from(["sizes", "equal", "num_outputs"]))
    consts: dict[str, np.ndarray] = {}
    attrs: dict[str, object] = {"axis": axis}
    opset = 13
    if mode == "sizes":
        cut = (
            sorted(draw.draw(st.sets(st.integers(1, extent - 1), max_size=3))) if extent > 1 else []
        )
        bounds = [0, *cut, extent]
        consts["split"] = np.diff(bounds).astype(np.int64)
        parts = len(bounds) - 1
        order = ["x", "split"]
    else:
        order = ["x"]
        if mode == "num_outputs":  # onnxruntime's chunks of ceil(extent / n) must all fit
            fits = [n for n in range(1, extent + 1) if -(-extent // n) * (n - 1) < extent]
            parts = draw.draw(st.sampled_from(fits))
            attrs["num_outputs"] = parts
            opset = 18
        else:
            parts = draw.draw(st.sampled_from([n for n in range(1, extent + 1) if extent % n == 0]))
    model = single_node_model("Split", data, consts, order, opset=opset, **attrs)
    model.graph.node[0].output[:] = [f"y{k}" for k in range(parts)]
    del model.graph.output[:]
    model.graph.output.extend(helper.make_empty_tensor_value_info(f"y{k}") for k in range(parts))
    want = ort_run(model, data)
    got = golden.run(lower_or_raise(model), data)
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from(INT_TYPES), st.integers(1, 1000), st.data())
def test_qlinear_softmax(seed: int, dt: type, length: int, draw: st.DataObject) -> None:
    """Rows of 1 to 1,000 values (a classifier's), onnxruntime's usual output scale 1/256 or
    any other: the table, the in-order float32 sum and the kernel's saturation, bit for bit."""
    rng = np.random.default_rng(seed)
    data = {"x": _ints(rng, dt, (2, length), draw.draw(st.booleans()))}
    y_scale = draw.draw(st.sampled_from([np.float32(1 / 256), _scale(draw.draw)]))
    consts = {
        "xs": np.array(_scale(draw.draw), np.float32),
        "xz": _zp(draw.draw, dt),
        "ys": np.array(y_scale, np.float32),
        "yz": np.array(0 if dt is np.uint8 else -128, dt),
    }
    model = qlinear_softmax_model(data, consts)
    check_against_onnxruntime(model, data)


@pytest.mark.parametrize("dt", INT_TYPES)
def test_softmax_qdq_group_within_one_lsb(dt: type) -> None:
    """DQ -> Softmax -> Q folds to QLinearSoftmax; onnxruntime fuses the group or runs it in
    float: an LSB apart at most."""
    zero = np.array(0 if dt is np.uint8 else -128, dt)
    consts = {
        "xs": np.array(0.07, np.float32),
        "xz": zero,
        "ys": np.array(1 / 256, np.float32),
        "yz": zero,
    }
    x = np.random.default_rng(5).integers(np.iinfo(dt).min, np.iinfo(dt).max, (3, 1000)).astype(dt)
    model = _qdq_group("Softmax", x, consts, axis=-1)
    lowered = lower_or_raise(model)
    assert [n.op.value for n in lowered.nodes] == ["softmax"]
    got = golden.run(lowered, {"x": x})["y"].astype(np.int32)
    assert np.abs(got - ort_run(model, {"x": x})["y"].astype(np.int32)).max() <= 1


@st.composite
def slice_case(draw: st.DrawFn) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """An int8 tensor and Slice's starts, ends, axes and steps: negative indices, ends past
    the extent, negative steps, axes in any order and sign; never an empty result."""
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(
        -128, 128, size=shape, dtype=np.int8
    )
    axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    starts, ends, steps = [], [], []
    for axis in axes:
        extent = shape[axis]
        step = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
        start = draw(st.integers(-extent - 2, extent + 2))
        end = draw(st.integers(-extent - 2, extent + 2))
        if draw(st.booleans()):
            end = 2**62 if step > 0 else -(2**62)
        if not range(extent)[slice(start, end, step)]:
            # Empty: an open end from a start inside is not (built, not filtered, so that
            # hypothesis never gives up on too many rejected draws).
            start = draw(st.integers(-extent, extent - 1))
            end = 2**62 if step > 0 else -(2**62)
        starts.append(start)
        ends.append(end)
        steps.append(step)
    signed_axes = [a - rank if draw(st.booleans()) else a for a in axes]
    consts = {
        "starts": np.array(starts, np.int64),
        "ends": np.array(ends, np.int64),
        "axes": np.array(signed_axes, np.int64),
        "steps": np.array(steps, np.int64),
    }
    return x, consts


@PROPERTY
@given(slice_case())
def test_slice(case: tuple[np.ndarray, dict[str, np.ndarray]]) -> None:
    x, consts = case
    model = single_node_model(
        "Slice", {"x": x}, consts, ["x", "starts", "ends", "axes", "steps"], opset=13
    )
    check_against_onnxruntime(model, {"x": x})
