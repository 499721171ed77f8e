"""Deeploy's test networks with layers on the NPU co-simulated, host C + RTL, equal to
Deeploy's outputs.npz; the NPU's cycles per layer equal the cycle model's. (The others run on
the host alone: the c backend's tests cover them, with the same C.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.backends.cosim import CosimBackend
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from tests.deeploy_data import CASES, MISSING, ON_THE_NPU, DeeployCase, name_of


@pytest.mark.skipif(not CASES, reason=MISSING)
@pytest.mark.parametrize("case", [c for c in CASES if name_of(c) in ON_THE_NPU], ids=name_of)
def test_cosim_equals_deeploy(tmp_path: Path, case: Path) -> None:
    data = DeeployCase.read(case)
    options = CompileOptions(array=4, input_types=data.input_types)
    built, comp = compile_build(data.model, options, tmp_path / "build")
    assert comp.npu is not None and comp.npu.layers
    result = CosimBackend().run(built, [data.feed(built.graph)])
    data.assert_equal(result.outputs[0])
    assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}
