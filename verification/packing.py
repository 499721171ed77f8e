"""Packing Python values into the bit vectors of Amaranth data layouts, for testbenches."""

from __future__ import annotations

from collections.abc import Mapping

from amaranth.lib import data


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
