"""Packing Python values into the bit vectors of Amaranth data layouts, for testbenches."""

from hwgen.npu.words import pack, unpack

__all__ = ["pack", "unpack"]
