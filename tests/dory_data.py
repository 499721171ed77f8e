"""DORY's NEMO-exported networks (../shared/external/dory, copied unchanged from dory_examples):
each folder an ONNX graph with input.txt and DORY's per-layer outputs out_layerN.txt. Read here
for the unit tests and the co-simulation alike.

A text file is a header `# name (shape [d0, d1, ...]),\\` and one value per line, channel-last
(HWC, or LC for a 1-D network) like DORY's own buffers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx

from hwgen.ir.types import DType

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "dory"
CASES = sorted({p.parent for p in EXTERNAL.glob("*/*/*.onnx")})
MISSING = f"no DORY test data at {EXTERNAL}"

_HEADER = re.compile(r"#\s*(?P<name>\S+)\s*\(shape \[(?P<shape>[0-9, ]*)\]\)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def name_of(case: Path) -> str:
    return case.relative_to(EXTERNAL).as_posix()


@dataclass(frozen=True)
class DoryTensor:
    name: str
    shape: tuple[int, ...]  # as the header gives it, channel-last
    values: npt.NDArray[np.float64]  # in file order

    @staticmethod
    def read(path: Path) -> DoryTensor:
        text = path.read_text()
        header, _, body = text.partition("\n")
        match = _HEADER.match(header)
        if match is None:
            raise ValueError(f"{path}: no '# name (shape [...])' header")
        shape = tuple(int(d) for d in match["shape"].split(",") if d.strip())
        values = np.array([float(v) for v in _NUMBER.findall(body)])
        if values.size != int(np.prod(shape)):
            raise ValueError(f"{path}: {values.size} values for shape {list(shape)}")
        return DoryTensor(match["name"], shape, values)

    def channels_first(self, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        """The values as a tensor of ONNX shape [1, C, ...], from channel-last order."""
        channels = shape[1]
        return self.values.reshape(-1, channels).T.reshape(shape).astype(np.float32)

    def matches(self, tensor: npt.NDArray[np.generic]) -> bool:
        """Whether a tensor of hwgen's (channels-first) holds these values."""
        array = np.asarray(tensor, np.float64)
        if array.size != self.values.size:
            return False
        if array.ndim >= 3:
            array = np.moveaxis(array.reshape(array.shape[0], array.shape[1], -1), 1, -1)
        return bool(np.array_equal(array.reshape(-1), self.values))


@dataclass
class DoryCase:
    model: onnx.ModelProto
    input_name: str
    feed: dict[str, npt.NDArray[np.float32]]
    layers: list[tuple[str, DoryTensor]]  # out_layerN.txt in N's order

    @staticmethod
    def read(case: Path) -> DoryCase:
        (path,) = case.glob("*.onnx")
        model = onnx.load(str(path))
        graph_input = model.graph.input[0]
        shape = tuple(d.dim_value for d in graph_input.type.tensor_type.shape.dim)
        image = DoryTensor.read(case / "input.txt").channels_first(shape)
        layers = sorted(case.glob("out_layer*.txt"), key=lambda p: int(p.stem[len("out_layer") :]))
        return DoryCase(
            model,
            graph_input.name,
            {graph_input.name: image},
            [(p.name, DoryTensor.read(p)) for p in layers],
        )

    @property
    def input_types(self) -> dict[str, DType]:
        """NEMO's input images are unsigned bytes, which the graph's float input does not say."""
        return {self.input_name: DType.UINT8}

    def first_layer_not_in(self, tensors: dict[str, npt.NDArray[np.generic]]) -> str | None:
        """The first of DORY's per-layer outputs that no tensor of hwgen's holds: where a
        mismatch starts, in DORY's own numbering."""
        for file, layer in self.layers:
            if not any(layer.matches(t) for t in tensors.values()):
                return f"{file} ({layer.name}, shape {list(layer.shape)})"
        return None
