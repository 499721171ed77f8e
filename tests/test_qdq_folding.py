"""QDQ folding: DequantizeLinear -> op -> QuantizeLinear groups become integer ops, and a group
that cannot fold says why."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hwgen.backends import golden
from hwgen.errors import UnsupportedError
from hwgen.frontend import Status, lower_model, lower_or_raise
from hwgen.ir import OpKind
from tests.conftest import assert_bit_exact, ort_run

SCALE = np.float32(0.037)
ZP = np.int8(-5)


def _qdq_model(
    op: onnx.NodeProto, extra: list[onnx.TensorProto], out_scale: float = SCALE
) -> onnx.ModelProto:
    """input float -> Q -> DQ -> op -> Q -> DQ -> output."""
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q_in"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq_in"),
        op,
        helper.make_node("QuantizeLinear", ["yf", "so", "z"], ["yq"], name="q_out"),
        helper.make_node("DequantizeLinear", ["yq", "so", "z"], ["y"], name="dq_out"),
    ]
    inits = [
        numpy_helper.from_array(np.array(SCALE), "s"),
        numpy_helper.from_array(np.array(np.float32(out_scale)), "so"),
        numpy_helper.from_array(np.array(ZP), "z"),
        *extra,
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


CASES = {
    "relu": (helper.make_node("Relu", ["xd"], ["yf"], name="op"), []),
    "clip": (
        helper.make_node("Clip", ["xd", "lo", "hi"], ["yf"], name="op"),
        [
            numpy_helper.from_array(np.array(np.float32(-1.0)), "lo"),
            numpy_helper.from_array(np.array(np.float32(2.5)), "hi"),
        ],
    ),
    "maxpool": (
        helper.make_node(
            "MaxPool",
            ["xd"],
            ["yf"],
            name="op",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
            strides=[2, 2],
        ),
        [],
    ),
    "pad": (
        helper.make_node("Pad", ["xd", "pads", "value"], ["yf"], name="op"),
        [
            numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "pads"),
            numpy_helper.from_array(np.array(np.float32(0.5)), "value"),
        ],
    ),
    "transpose": (helper.make_node("Transpose", ["xd"], ["yf"], name="op", perm=[0, 2, 3, 1]), []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_scale_groups_fold_and_match(case: str) -> None:
    op, extra = CASES[case]
    model = _qdq_model(op, extra)
    lowering = lower_model(model)
    assert lowering.supported
    ops = [node.op for node in lowering.graph.nodes]
    assert OpKind.DEQUANTIZE in ops and ops.count(OpKind.DEQUANTIZE) == 1  # only the graph's end
    folded = {r.name for r in lowering.reports if r.status is Status.FOLDED}
    assert {"dq_in", "q_out"} <= folded
    x = np.random.default_rng(0).uniform(-6, 6, size=(1, 2, 6, 6)).astype(np.float32)
    got = golden.run(lowering.graph, {"x": x})["y"]
    assert_bit_exact(got, ort_run(model, {"x": x})["y"], case)


def test_scale_change_across_maxpool_is_refused_with_reason() -> None:
    op, extra = CASES["maxpool"]
    with pytest.raises(UnsupportedError, match="changes the scale or zero point"):
        lower_or_raise(_qdq_model(op, extra, out_scale=0.1))


def test_unquantized_output_is_refused_with_reason() -> None:
    op = helper.make_node("Relu", ["xd"], ["yf"], name="op")
    model = _qdq_model(op, [])
    # Read the float result directly instead of through QuantizeLinear.
    model.graph.output[0].name = "yf"
    with pytest.raises(UnsupportedError, match=r"node 'op' \(Relu\).*QuantizeLinear"):
        lower_or_raise(model)
