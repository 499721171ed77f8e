"""NEMO/DORY element-wise arithmetic (ARITH) against onnxruntime, and the shift rules that
replace a requantization chain on the NPU against the chain itself on every accumulator.

The graphs are DORY's requantization as NEMO writes it, with its parameters drawn: a
convolution on unsigned bytes in float32, Mul(kappa) and Add(lambda) per channel in float32
(which round once the accumulator times kappa passes 2^24), a Cast to int64 (truncating), an
int64 Mul and Div (truncating toward zero), a Cast back and a Clip to the output levels."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from hwgen.backends import golden
from hwgen.frontend import Dialect, lower_model, lower_or_raise
from hwgen.ir import DType, OpKind
from hwgen.passes import synthesize_requant
from hwgen.sim_models import arith
from tests.conftest import assert_bit_exact, ort_run

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHANNELS, SIDE = 3, 5


def _dory_layer(
    rng: np.random.Generator, kappa_sign: int, divisor: int, lower: int, upper: int
) -> onnx.ModelProto:
    weights = rng.integers(-127, 128, (CHANNELS, 2, 3, 3)).astype(np.float32)
    kappa = (kappa_sign * rng.integers(1, 4096, (1, CHANNELS, 1, 1))).astype(np.float32)
    lam = rng.integers(-(2**26), 2**26, (1, CHANNELS, 1, 1)).astype(np.float32)
    constants = {
        "w": weights,
        "kappa": kappa,
        "lambda": lam,
        "m": np.array([int(rng.integers(1, 64))], np.int64),
        "d": np.array(divisor, np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["acc"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["kappa", "acc"], ["scaled"], name="mul"),
        helper.make_node("Add", ["scaled", "lambda"], ["shifted"], name="add"),
        helper.make_node("Cast", ["shifted"], ["wide"], name="cast", to=TensorProto.INT64),
        helper.make_node("Mul", ["wide", "m"], ["times"], name="times"),
        helper.make_node("Div", ["times", "d"], ["quotient"], name="div"),
        helper.make_node("Cast", ["quotient"], ["back"], name="back", to=TensorProto.FLOAT),
        helper.make_node("Clip", ["back"], ["y"], name="clip", min=float(lower), max=float(upper)),
    ]
    graph = helper.make_graph(
        nodes,
        "dory_layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, SIDE, SIDE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, CHANNELS, SIDE, SIDE])],
        [numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 6
    return model


DIVISORS = st.sampled_from([2**24, 2**23, 2**24 - 1, 2**22 - 1, 1000003, 1])


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from([1, -1]), DIVISORS, st.booleans())
def test_dory_requantization_equals_onnxruntime(
    seed: int, kappa_sign: int, divisor: int, signed: bool
) -> None:
    rng = np.random.default_rng(seed)
    lower, upper = (-128, 127) if signed else (0, 255)
    model = _dory_layer(rng, kappa_sign, divisor, lower, upper)
    x = rng.integers(0, 256, (1, 2, SIDE, SIDE)).astype(np.float32)
    lowering = lower_model(model, input_types={"x": DType.UINT8})
    assert lowering.dialect is Dialect.NEMO and not lowering.errors
    got = golden.run(lowering.graph, {"x": x})["y"]
    assert_bit_exact(got, ort_run(model, {"x": x})["y"], "y")


@pytest.mark.parametrize("op", ["Div", "Mul", "Add", "Sub"])
@pytest.mark.parametrize("constant_first", [False, True])
def test_int64_steps_truncate_as_onnxruntime(op: str, constant_first: bool) -> None:
    """Negative operands: C's division truncates toward zero, where NumPy's floors."""
    x = np.arange(-40, 41, dtype=np.float32).reshape(1, 81)
    constant = np.array([-7 if op in ("Div", "Sub") else 3], np.int64)
    inputs = ["k", "wide"] if constant_first else ["wide", "k"]
    nodes = [
        helper.make_node("Cast", ["x"], ["wide"], name="cast", to=TensorProto.INT64),
        helper.make_node(op, inputs, ["r"], name="op"),
        helper.make_node("Cast", ["r"], ["y"], name="back", to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        "int64",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 81])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 81])],
        [numpy_helper.from_array(constant, "k")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    lowering = lower_model(model, Dialect.NEMO, {"x": DType.INT8})
    if op == "Div" and constant_first:  # int8 values reach zero: refused, not divided by
        assert "reach zero" in lowering.errors[0].reason
        return
    assert not lowering.errors, lowering.errors[0]
    want = ort_run(model, {"x": x})["y"]
    assert_bit_exact(golden.run(lowering.graph, {"x": x})["y"], want, op)


@PROPERTY
@given(st.integers(0, 2**32 - 1), DIVISORS, st.booleans())
def test_a_synthesized_rule_equals_the_chain_on_every_accumulator(
    seed: int, divisor: int, signed: bool
) -> None:
    """Where the pass finds a shift rule, it is the chain's function on the whole range the
    layer can produce, accumulator by accumulator."""
    rng = np.random.default_rng(seed)
    lower, upper = (-128, 127) if signed else (0, 255)
    graph = lower_or_raise(
        _dory_layer(rng, 1, divisor, lower, upper), input_types={"x": DType.UINT8}
    )
    conv = next(n for n in graph.nodes if n.op is OpKind.CONV)
    chain = synthesize_requant._chain(graph, conv)
    out = graph.type_of(chain[-1].outputs[0]).dtype
    lo, hi = synthesize_requant._sum_range(graph, conv)
    rule = synthesize_requant.synthesize(chain, out, lo, hi)
    if rule is None:
        return
    mul, add, shift = rule
    for c in range(CHANNELS):
        acc = np.arange(lo[c], hi[c] + 1, dtype=np.int64)
        every = acc.reshape(1, 1, -1).repeat(CHANNELS, axis=1)
        want = arith.run([every], synthesize_requant.steps_of(chain), out)[0, c].astype(np.int64)
        got = np.clip((acc * mul[c] + add[c]) >> shift, out.qmin, out.qmax)
        np.testing.assert_array_equal(got, want)


def test_dory_chains_reach_the_npu() -> None:
    """A divisor of 2^24 and small enough parameters: the chain becomes the NPU's shift rule and
    is fused into the convolution."""
    from hwgen.compiler import CompileOptions, compile_graph

    rng = np.random.default_rng(7)
    model = _dory_layer(rng, 1, 2**24, 0, 255)
    graph = lower_or_raise(model, input_types={"x": DType.UINT8})
    comp = compile_graph(graph, CompileOptions(array=4))
    (conv,) = [n for n in comp.graph.nodes if n.op is OpKind.CONV]
    assert conv.target.value == "npu"
    assert not [n for n in comp.graph.nodes if n.op is OpKind.ARITH]
