"""The ONNX backend node tests for the ops hwgen lowers: golden == onnxruntime == reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from hwgen.backends import golden
from hwgen.frontend import freeze_inputs, lower_or_raise
from tests.conftest import assert_bit_exact, ort_run

NODE_DIR = Path(onnx.__file__).parent / "backend" / "test" / "data" / "node"

# Test name -> the graph inputs that stay runtime data; the rest (scales, zero points, and
# the weights of the conv tests) become initializers, as in a deployed network.
CASES = {
    "test_qlinearconv": ["x"],
    "test_qlinearmatmul_2D_int8_float32": ["a", "b"],
    "test_qlinearmatmul_2D_uint8_float32": ["a", "b"],
    "test_qlinearmatmul_3D_int8_float32": ["a", "b"],
    "test_qlinearmatmul_3D_uint8_float32": ["a", "b"],
    "test_matmulinteger": ["A", "B"],
    "test_convinteger_with_padding": ["x", "w"],
    "test_convinteger_without_padding": ["x", "w"],
    "test_quantizelinear": ["x"],
    "test_quantizelinear_axis": ["x"],
    "test_dequantizelinear": ["x"],
    "test_dequantizelinear_axis": ["x"],
    "test_maxpool_2d_uint8": ["x"],
    "test_clip_default_int8_min": ["x"],
    "test_clip_default_int8_max": ["x"],
    "test_clip_default_int8_inbounds": ["x"],
}

# onnxruntime 1.31 refuses this node test itself (per-channel ConvInteger weight zero points):
# the golden is checked against the ONNX reference output only.
ORT_REFUSES = {"test_convinteger_with_padding"}


def _load_case(name: str) -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[np.ndarray]]:
    case = NODE_DIR / name
    model = onnx.load(str(case / "model.onnx"))
    data = case / "test_data_set_0"
    inputs = [
        numpy_helper.to_array(onnx.load_tensor(str(p))) for p in sorted(data.glob("input_*.pb"))
    ]
    outputs = [
        numpy_helper.to_array(onnx.load_tensor(str(p))) for p in sorted(data.glob("output_*.pb"))
    ]
    names = [i.name for i in model.graph.input]
    return model, dict(zip(names, inputs, strict=True)), outputs


@pytest.mark.parametrize("name", sorted(CASES))
def test_node_case_bit_exact(name: str) -> None:
    model, feeds, expected = _load_case(name)
    runtime = CASES[name]
    frozen = freeze_inputs(model, {k: v for k, v in feeds.items() if k not in runtime})
    graph = lower_or_raise(frozen)
    got = golden.run(graph, {k: feeds[k] for k in runtime})
    oracle = {} if name in ORT_REFUSES else ort_run(model, feeds)
    for (out_name, value), reference in zip(got.items(), expected, strict=True):
        if oracle:
            assert_bit_exact(value, oracle[out_name], f"{name} vs onnxruntime")
        assert_bit_exact(value, reference, f"{name} vs ONNX reference")
