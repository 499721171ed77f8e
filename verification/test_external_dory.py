"""DORY's four NEMO networks co-simulated, host C + RTL, equal to onnxruntime bit for bit on
their own input images; the NPU runs the layers whose requantization a shift rule equals, and
its cycles per layer equal the cycle model's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwgen.backends.cosim import CosimBackend
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from hwgen.oracle import onnxruntime_outputs
from tests.dory_data import CASES, MISSING, DoryCase, name_of


@pytest.mark.skipif(not CASES, reason=MISSING)
@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_cosim_equals_onnxruntime(tmp_path: Path, case: Path) -> None:
    data = DoryCase.read(case)
    options = CompileOptions(array=8, input_types=data.input_types)
    built, comp = compile_build(data.model, options, tmp_path / "build")
    assert comp.npu is not None and comp.npu.layers
    result = CosimBackend().run(built, [data.feed])
    for name, want in onnxruntime_outputs(data.model, data.feed).items():
        np.testing.assert_array_equal(result.outputs[0][name].view(np.uint32), want.view(np.uint32))
    assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}
