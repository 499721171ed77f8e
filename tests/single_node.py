"""Build one-node ONNX models, run them on onnxruntime and on the golden model."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import helper, numpy_helper

from hwgen.backends import golden
from hwgen.frontend import lower_or_raise
from tests.conftest import assert_bit_exact, ort_run

MS = "com.microsoft"


def single_node_model(
    op_type: str,
    data: Mapping[str, np.ndarray],
    consts: Mapping[str, np.ndarray],
    input_order: list[str],
    *,
    domain: str = "",
    opset: int = 21,
    **attrs: object,
) -> onnx.ModelProto:
    """A graph with one node; `data` become graph inputs, `consts` initializers. An empty
    string in `input_order` leaves an optional input out."""
    node = helper.make_node(op_type, input_order, ["y"], name="node", domain=domain, **attrs)
    inputs = [
        helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
        for k, v in data.items()
    ]
    output = helper.make_empty_tensor_value_info("y")
    graph = helper.make_graph(
        [node],
        "single",
        inputs,
        [output],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items()],
    )
    imports = [helper.make_opsetid("", opset)]
    if domain:
        imports.append(helper.make_opsetid(domain, 1))
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 10
    return model


def qlinear_softmax_model(
    data: Mapping[str, np.ndarray], consts: Mapping[str, np.ndarray]
) -> onnx.ModelProto:
    """com.microsoft QLinearSoftmax over the last axis of `x`, as opset 13 writes it."""
    model = single_node_model(
        "QLinearSoftmax", data, consts, ["x", "xs", "xz", "ys", "yz"], domain=MS, opset=13
    )
    model.graph.node[0].attribute.extend(
        [helper.make_attribute("axis", -1), helper.make_attribute("opset", 13)]
    )
    return model


def check_against_onnxruntime(model: onnx.ModelProto, data: Mapping[str, np.ndarray]) -> np.ndarray:
    want = ort_run(model, data)["y"]
    got = golden.run(lower_or_raise(model), data)["y"]
    assert_bit_exact(got, want, model.graph.node[0].op_type)
    return got
