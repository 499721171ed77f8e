"""Deeploy's own test networks (../shared/external/deeploy, copied unchanged from its
DeeployTest/Tests): each folder a network.onnx with inputs.npz and outputs.npz. Read here for
the unit tests and the co-simulation alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx

from hwgen.ir import Graph
from hwgen.ir.types import DType

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "deeploy"
CASES = sorted(p.parent for p in EXTERNAL.glob("**/network.onnx"))
MISSING = f"no Deeploy test data at {EXTERNAL}"

Feed = dict[str, npt.NDArray[np.generic]]

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


def name_of(case: Path) -> str:
    return case.relative_to(EXTERNAL).as_posix()


@dataclass
class DeeployCase:
    model: onnx.ModelProto
    inputs: Feed  # by graph input name, as the files hold them
    outputs: list[npt.NDArray[np.generic]]  # in the graph's output order

    @staticmethod
    def read(case: Path) -> DeeployCase:
        """The npz keys follow the graph's order, not always its names; initializers listed as
        inputs take no data, and some files carry the weights after the inputs."""
        model = onnx.load(str(case / "network.onnx"))
        constant = {t.name for t in model.graph.initializer}
        names = [i.name for i in model.graph.input if i.name not in constant]
        with np.load(case / "inputs.npz") as given:
            assert len(given.files) >= len(names), given.files
            keys = given.files[: len(names)]
            inputs = {name: given[key] for name, key in zip(names, keys, strict=True)}
        with np.load(case / "outputs.npz") as expected:
            outputs = [expected[key] for key in expected.files]
        return DeeployCase(model, inputs, outputs)

    @property
    def input_types(self) -> dict[str, DType]:
        """Deeploy's runner types each input by its test values: uint8 where they need it, int32
        where they need more than 8 bits (Deeploy's int16)."""
        types = {}
        for name, value in self.inputs.items():
            if value.min() < -128 or value.max() > 255:
                types[name] = DType.INT32
            elif value.min() >= 0 and value.max() > 127:
                types[name] = DType.UINT8
        return types

    def feed(self, graph: Graph) -> Feed:
        """The inputs in the lowered graph's types and shapes."""
        return {
            n: v.astype(graph.type_of(n).dtype.numpy).reshape(graph.type_of(n).shape)
            for n, v in self.inputs.items()
        }

    def assert_equal(self, got: Feed) -> None:
        for output, want in zip(self.model.graph.output, self.outputs, strict=True):
            value = np.asarray(got[output.name]).astype(np.int64).reshape(-1)
            want64 = want.astype(np.int64).reshape(-1)
            assert value.shape == want64.shape, output.name
            differ = np.flatnonzero(value != want64)
            assert differ.size == 0, (
                f"{output.name}: {differ.size} of {value.size} differ, first at {differ[0]}: "
                f"{value[differ[0]]} != Deeploy's {want64[differ[0]]}"
            )
