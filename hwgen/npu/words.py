"""Memory words of the NPU as Python integers: int8 lanes (lane i at bits [8i, 8i+8)) and
Amaranth data layouts packed and unpacked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from amaranth import Shape
from amaranth.lib import data


def lanes_word(values: npt.ArrayLike) -> int:
    return int.from_bytes(np.asarray(values).astype(np.int8).tobytes(), "little")


def word_lanes(word: int, lanes: int) -> npt.NDArray[np.uint8]:
    return np.frombuffer(int(word).to_bytes(lanes, "little"), dtype=np.uint8).copy()


def pack(layout: data.Layout, values: Mapping[str, object]) -> int:
    """A struct's fields at their offsets; nested structs take nested mappings; negative
    integers are stored in two's complement."""
    word = 0
    for name, field in layout:
        value = values[name]
        if isinstance(value, Mapping):
            bits = pack(data.Layout.cast(field.shape), value)
        else:
            bits = int(value)  # type: ignore[call-overload]
        word |= (bits & ((1 << field.width) - 1)) << field.offset
    return word


def unpack(layout: data.Layout, word: int) -> dict[str, Any]:
    """The inverse of pack: nested structs come back as dicts, signed fields negative."""
    values: dict[str, Any] = {}
    for name, field in layout:
        bits = (word >> field.offset) & ((1 << field.width) - 1)
        if isinstance(field.shape, data.Layout):
            values[name] = unpack(field.shape, bits)
        elif Shape.cast(field.shape).signed and bits >> (field.width - 1):
            values[name] = bits - (1 << field.width)
        else:
            values[name] = bits
    return values
