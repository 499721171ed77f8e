"""The NPU's program: the commands it fetches from system memory and runs, one 256-bit record
each, read by the RTL (as Amaranth layouts), the functional model and the cycle model (as Python
dataclasses), and written by the compiler.

A layer is a program of three kinds of command, run in order by three engines that overlap:

- LOAD: the loader's DMA copies system memory into a bank of a local buffer (activations,
  weights or parameters): n1 x n0 chunks of `chunk_beats` bus beats each, from `src` +
  i1 * stride1 + i0 * stride0, to consecutive words from `local_addr` of the bank. `flip`
  inverts each byte's top bit on the way (uint8 activations enter the array as x - 128).
- COMPUTE: the core runs a convolution (or GEMM) on the banks named, as hwgen.npu.descriptor
  describes it. `weight_base`, `param_base` and `out_base` address the whole memory, the bank
  included; the bank bits name the banks for the dispatcher.
- STORE: the storer's DMA copies words of an output bank to system memory, in the same
  pattern as a load.

The dispatcher starts each command, in order, once its engine is idle and no running command
of another engine touches a bank it uses in a conflicting way (hwgen/npu/sequencer.py): loads of
tile k + 1 and stores of tile k - 1 run while tile k computes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from amaranth import unsigned
from amaranth.lib import data

from hwgen.npu.descriptor import CONV_DESCRIPTOR
from hwgen.npu.words import pack, unpack

RECORD_BITS = 256
RECORD_BYTES = RECORD_BITS // 8
WORD = unsigned(32)


class Opcode(enum.IntEnum):
    LOAD = 1
    COMPUTE = 2
    STORE = 3


class Buffer(enum.IntEnum):
    """The local buffers a LOAD fills."""

    ACT = 0
    WEIGHT = 1
    PARAM = 2


# The DMA's access pattern, shared by LOAD and STORE.
PATTERN = {
    "chunk_beats": unsigned(16),
    "n0": unsigned(16),
    "n1": unsigned(16),
    "stride0": WORD,
    "stride1": WORD,
}

LOAD_LAYOUT = data.StructLayout(
    {
        "opcode": unsigned(2),
        "buffer": unsigned(2),
        "bank": unsigned(1),
        "flip": unsigned(1),
        "local_addr": unsigned(16),
        "src": WORD,
        **PATTERN,
    }
)
STORE_LAYOUT = data.StructLayout(
    {
        "opcode": unsigned(2),
        "bank": unsigned(1),
        "local_addr": unsigned(16),
        "dst": WORD,
        **PATTERN,
    }
)
COMPUTE_LAYOUT = data.StructLayout(
    {
        "opcode": unsigned(2),
        "weight_bank": unsigned(1),
        "param_bank": unsigned(1),
        "out_bank": unsigned(1),
        "conv": CONV_DESCRIPTOR,
    }
)
for _layout in (LOAD_LAYOUT, STORE_LAYOUT, COMPUTE_LAYOUT):
    assert _layout.size <= RECORD_BITS, _layout


@dataclass(frozen=True)
class Pattern:
    """n1 x n0 chunks of `chunk_beats` beats; chunk (i1, i0) at base + i1 * stride1 +
    i0 * stride0."""

    chunk_beats: int
    n0: int = 1
    n1: int = 1
    stride0: int = 0
    stride1: int = 0

    @property
    def chunks(self) -> int:
        return self.n0 * self.n1

    @property
    def beats(self) -> int:
        return self.chunks * self.chunk_beats

    def offsets(self) -> Iterable[int]:
        """Byte offsets of the chunks, in order."""
        for i1 in range(self.n1):
            for i0 in range(self.n0):
                yield i1 * self.stride1 + i0 * self.stride0

    def _fields(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(Pattern)}


@dataclass(frozen=True)
class Load:
    OPCODE: ClassVar[Opcode] = Opcode.LOAD
    buffer: Buffer
    bank: int
    local_addr: int
    src: int
    pattern: Pattern
    flip: bool = False

    def record(self) -> dict[str, Any]:
        return {
            "opcode": Opcode.LOAD,
            "buffer": int(self.buffer),
            "bank": self.bank,
            "flip": int(self.flip),
            "local_addr": self.local_addr,
            "src": self.src,
            **self.pattern._fields(),
        }


@dataclass(frozen=True)
class Store:
    OPCODE: ClassVar[Opcode] = Opcode.STORE
    bank: int
    local_addr: int
    dst: int
    pattern: Pattern

    def record(self) -> dict[str, Any]:
        return {
            "opcode": Opcode.STORE,
            "bank": self.bank,
            "local_addr": self.local_addr,
            "dst": self.dst,
            **self.pattern._fields(),
        }


@dataclass(frozen=True)
class Compute:
    OPCODE: ClassVar[Opcode] = Opcode.COMPUTE
    conv: dict[str, int]  # the CONV_DESCRIPTOR fields (hwgen.sim_models.npu.ConvCommand)
    weight_bank: int
    param_bank: int
    out_bank: int

    @property
    def act_bank(self) -> int:
        return self.conv["act_bank"]

    def record(self) -> dict[str, Any]:
        return {
            "opcode": Opcode.COMPUTE,
            "weight_bank": self.weight_bank,
            "param_bank": self.param_bank,
            "out_bank": self.out_bank,
            "conv": self.conv,
        }


Command = Load | Compute | Store
LAYOUTS = {Opcode.LOAD: LOAD_LAYOUT, Opcode.COMPUTE: COMPUTE_LAYOUT, Opcode.STORE: STORE_LAYOUT}


def encode(command: Command) -> bytes:
    word = pack(LAYOUTS[command.OPCODE], command.record())
    return word.to_bytes(RECORD_BYTES, "little")


def encode_program(commands: Iterable[Command]) -> bytes:
    return b"".join(encode(c) for c in commands)


class DecodeError(ValueError):
    pass


def decode(record: bytes) -> Command:
    word = int.from_bytes(record, "little")
    opcode = word & 0b11
    if opcode not in Opcode.__members__.values():
        raise DecodeError(f"opcode {opcode}")
    values = unpack(LAYOUTS[Opcode(opcode)], word)
    if opcode == Opcode.COMPUTE:
        return Compute(
            conv=values["conv"],
            weight_bank=values["weight_bank"],
            param_bank=values["param_bank"],
            out_bank=values["out_bank"],
        )
    pattern = Pattern(**{name: values[name] for name in PATTERN})
    if opcode == Opcode.LOAD:
        if values["buffer"] not in Buffer.__members__.values():
            raise DecodeError(f"buffer {values['buffer']}")
        return Load(
            Buffer(values["buffer"]),
            values["bank"],
            values["local_addr"],
            values["src"],
            pattern,
            bool(values["flip"]),
        )
    return Store(values["bank"], values["local_addr"], values["dst"], pattern)


def decode_program(data_bytes: bytes) -> list[Command]:
    return [
        decode(data_bytes[k : k + RECORD_BYTES]) for k in range(0, len(data_bytes), RECORD_BYTES)
    ]
