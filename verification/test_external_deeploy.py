"""Every one of Deeploy's test networks co-simulated, host C + RTL, equal to Deeploy's
outputs.npz; the NPU runs the requantized convolutions and matrix products, and its cycles
per layer equal the cycle model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.backends.cosim import CosimBackend
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from tests.deeploy_data import CASES, MISSING, DeeployCase, name_of

# The cases with a convolution or matrix product on the NPU (depthwise ones, and products
# whose sums leave the layer unrequantized or requantized per row, run on the host).
ON_THE_NPU = {
    "Models/CNN_Linear1",
    "Models/miniMobileNet",
    "Kernels/Integer/Conv/PW_2D_RQ/Regular_RQ",
    "Kernels/Integer/Conv/PW_2D_RQ/Unsigned_RQ",
    "Kernels/Integer/Conv/Regular_1D_RQ",
    "Kernels/Integer/Conv/Regular_2D_RQ",
    "Kernels/Integer/Conv/Regular_3x3_RQ",
    "Kernels/Integer/Conv/StriddedPadded_2D_RQ",
    "Kernels/Integer/GEMM/Regular_RQPerColumn",
}


@pytest.mark.skipif(not CASES, reason=MISSING)
@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_cosim_equals_deeploy(tmp_path: Path, case: Path) -> None:
    data = DeeployCase.read(case)
    options = CompileOptions(array=4, input_types=data.input_types)
    built, comp = compile_build(data.model, options, tmp_path / "build")
    assert comp.npu is not None
    assert bool(comp.npu.layers) == (name_of(case) in ON_THE_NPU)
    result = CosimBackend().run(built, [data.feed(built.graph)])
    data.assert_equal(result.outputs[0])
    assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}
