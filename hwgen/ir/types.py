"""Tensor types: element dtype, static shape and (optional) quantization parameters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


class DType(enum.Enum):
    INT8 = "int8"
    UINT8 = "uint8"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"

    @property
    def numpy(self) -> np.dtype[np.generic]:
        return np.dtype(self.value)

    @property
    def is_integer(self) -> bool:
        return self is not DType.FLOAT32

    @property
    def qmin(self) -> int:
        return _LIMITS[self][0]

    @property
    def qmax(self) -> int:
        return _LIMITS[self][1]

    @classmethod
    def from_numpy(cls, dtype: npt.DTypeLike) -> DType:
        name = np.dtype(dtype).name
        for member in cls:
            if member.value == name:
                return member
        raise ValueError(f"unsupported element type {name}")


_LIMITS = {
    DType.INT8: (-(2**7), 2**7 - 1),
    DType.UINT8: (0, 2**8 - 1),
    DType.INT32: (-(2**31), 2**31 - 1),
    DType.INT64: (-(2**63), 2**63 - 1),
}


def _frozen_array(values: npt.ArrayLike, dtype: npt.DTypeLike) -> npt.NDArray[np.generic]:
    array = np.array(values, dtype=dtype).reshape(-1)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Quant:
    """Affine quantization: real = (q - zero_point) * scale, per tensor or along `axis`.

    `scale` and `zero_point` are 1-D: length 1 for per-tensor, one entry per channel otherwise.
    """

    scale: npt.NDArray[np.float32]
    zero_point: npt.NDArray[np.int32]
    axis: int | None = None

    @staticmethod
    def make(scale: npt.ArrayLike, zero_point: npt.ArrayLike, axis: int | None = None) -> Quant:
        s = _frozen_array(scale, np.float32)
        z = _frozen_array(zero_point, np.int64).astype(np.int32)
        z.setflags(write=False)
        if s.size != z.size:
            raise ValueError("scale and zero point differ in length")
        return Quant(s, z, axis if s.size > 1 else None)  # type: ignore[arg-type]

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    def same_as(self, other: Quant) -> bool:
        return (
            self.scale.size == other.scale.size
            and bool(np.array_equal(self.scale, other.scale))
            and bool(np.array_equal(self.zero_point, other.zero_point))
        )

    def describe(self) -> str:
        if self.per_channel:
            return f"per-channel[{self.scale.size}] axis={self.axis}"
        return f"s={float(self.scale[0]):.6g} zp={int(self.zero_point[0])}"


@dataclass(frozen=True)
class QType:
    """The type of one tensor: element type, static shape, quantization if it has one."""

    dtype: DType
    shape: tuple[int, ...]
    quant: Quant | None = field(default=None, compare=False)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def with_shape(self, shape: tuple[int, ...]) -> QType:
        return QType(self.dtype, tuple(shape), self.quant)

    def describe(self) -> str:
        dims = "x".join(str(d) for d in self.shape) or "scalar"
        text = f"{self.dtype.value}[{dims}]"
        if self.quant is not None:
            text += f" ({self.quant.describe()})"
        return text
