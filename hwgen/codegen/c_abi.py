"""The generated host C as its callers see it: tensor layouts, the layer table, the inputs
and outputs. Written beside the C (sw/network.json) and read by every backend that runs it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.ir import DType, QType

ABI_FILE = "network.json"
C_DTYPE = {
    DType.INT8: "DT_INT8",
    DType.UINT8: "DT_UINT8",
    DType.FLOAT32: "DT_FLOAT32",
    DType.INT32: "DT_INT32",
    DType.INT64: "DT_INT64",
}


@dataclass(frozen=True)
class TensorLayout:
    """A tensor as the host C stores it: NHWC, a matrix rows x features as H x 1 x C; the NPU's
    copy of a tensor keeps each pixel's channels `stride` apart (padded to blocks of M)."""

    h: int
    w: int
    c: int
    dtype: DType
    stride: int = 0  # channels apart per pixel: c if 0

    @property
    def channel_stride(self) -> int:
        return self.stride or self.c

    @staticmethod
    def of(qtype: QType, where: str) -> TensorLayout:
        shape = qtype.shape
        if qtype.dtype not in C_DTYPE:
            raise HwgenError(f"{where}: {qtype.dtype.value} tensors have no host kernels")
        if len(shape) == 4 and shape[0] == 1:
            return TensorLayout(shape[2], shape[3], shape[1], qtype.dtype)
        if len(shape) == 4 and shape[1] == 1:  # a batch of one-channel images, one by one
            return TensorLayout(shape[0] * shape[2], shape[3], 1, qtype.dtype)
        if len(shape) == 3 and shape[0] == 1:  # [1, C, L]: an image of height 1
            return TensorLayout(1, shape[2], shape[1], qtype.dtype)
        if len(shape) == 2:
            return TensorLayout(shape[0], 1, shape[1], qtype.dtype)
        if len(shape) == 3:  # [B, M, K]: a batch of matrices, their rows one after another
            return TensorLayout(shape[0] * shape[1], 1, shape[2], qtype.dtype)
        if len(shape) == 1:  # a vector: one row of features
            return TensorLayout(1, 1, shape[0], qtype.dtype)
        raise HwgenError(
            f"{where}: tensors of shape {list(shape)} (1-D to 3-D, or images of batch 1)"
        )

    @property
    def row_bytes(self) -> int:
        return self.w * self.channel_stride * self.dtype.numpy.itemsize

    @property
    def bytes(self) -> int:
        return self.h * self.row_bytes

    def c_struct(self) -> dict[str, Any]:
        return {"h": self.h, "w": self.w, "c": self.c, "dtype": C_DTYPE[self.dtype]}

    def as_dict(self) -> dict[str, Any]:
        return {
            "h": self.h,
            "w": self.w,
            "c": self.c,
            "dtype": self.dtype.value,
            "stride": self.channel_stride,
        }

    @staticmethod
    def from_dict(values: dict[str, Any]) -> TensorLayout:
        return TensorLayout(
            values["h"], values["w"], values["c"], DType(values["dtype"]), values["stride"]
        )

    def rows_of(self, per_row: int, dtype: DType | None = None) -> TensorLayout:
        """The same elements seen as rows of `per_row`: element-wise layers tile any way."""
        total = self.h * self.w * self.c
        return TensorLayout(total // per_row, 1, per_row, dtype or self.dtype)


@dataclass
class LayerC:
    """What the schedule knows of one layer, for tracing and mismatch reports."""

    index: int
    node: str
    output: str
    layout: TensorLayout
    rows_per_tile: int  # 0: the layer is not tiled
    row_elements: int  # elements in one tiling row (NHWC order)

    def tile_of(self, nhwc_index: int) -> int:
        if not self.rows_per_tile:
            return 0
        return nhwc_index // (self.row_elements * self.rows_per_tile)


@dataclass
class CNetwork:
    """The generated C of a network as its callers see it: where it is, its layers in the
    order it runs them (hal_trace_layer's index), its inputs' and outputs' layouts."""

    directory: Path
    layers: list[LayerC] = field(default_factory=list)
    inputs: list[tuple[str, TensorLayout]] = field(default_factory=list)
    outputs: list[tuple[str, TensorLayout]] = field(default_factory=list)

    @property
    def sources(self) -> list[Path]:
        return sorted(self.directory.glob("*.c"))

    def save(self) -> None:
        def tensor(name: str, layout: TensorLayout) -> dict[str, Any]:
            return {"name": name, **layout.as_dict()}

        body = {
            "layers": [
                {**dataclasses.asdict(layer), "layout": layer.layout.as_dict()}
                for layer in self.layers
            ],
            "inputs": [tensor(name, layout) for name, layout in self.inputs],
            "outputs": [tensor(name, layout) for name, layout in self.outputs],
        }
        (self.directory / ABI_FILE).write_text(json.dumps(body, indent=1) + "\n")

    @staticmethod
    def load(directory: Path) -> CNetwork:
        try:
            body = json.loads((directory / ABI_FILE).read_text())
            layers = [
                LayerC(**{**entry, "layout": TensorLayout.from_dict(entry["layout"])})
                for entry in body["layers"]
            ]
            inputs, outputs = (
                [(entry["name"], TensorLayout.from_dict(entry)) for entry in body[key]]
                for key in ("inputs", "outputs")
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HwgenError(f"'{directory}': no readable {ABI_FILE} ({exc})") from None
        return CNetwork(directory, layers, inputs, outputs)
