"""What an NPU program does (hwgen.npu.commands), command by command, to the NPU's local
buffers and to system memory: the naive model the RTL's DMA and the functional NPU are held to.

System memory is a byte array; a LOAD's chunks are read from it and cut into the target's words
(each a whole number of bus beats: an activation vector of M bytes, a weight block of M * M
bytes, a parameter word padded to whole beats), written from `local_addr` of the bank on; a
word past the bank's end is not written and fails the command. A STORE is the reverse from an
output bank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hwgen.npu.commands import Buffer, Command, Compute, Load, Pattern, Store
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import param_layout
from hwgen.npu.dma import beats
from hwgen.npu.errors import NpuError
from hwgen.npu.words import unpack
from hwgen.sim_models.npu import ConvCommand, NpuMemories, check, execute

Bytes = npt.NDArray[np.uint8]


def word_bytes(config: NpuConfig, buffer: Buffer) -> int:
    """Bytes one word of `buffer` takes in system memory: whole bus beats."""
    bits = {
        Buffer.ACT: 8 * config.array,
        Buffer.WEIGHT: 8 * config.array * config.array,
        Buffer.PARAM: param_layout(config).size,
    }[buffer]
    return beats(bits, config.data_width) * config.beat_bytes


def depth(config: NpuConfig, buffer: Buffer) -> int:
    return {
        Buffer.ACT: config.act_depth,
        Buffer.WEIGHT: config.weight_depth,
        Buffer.PARAM: config.param_depth,
    }[buffer]


def gather(sysmem: Bytes, base: int, pattern: Pattern, beat_bytes: int) -> Bytes:
    """The bytes a pattern reads, chunk after chunk."""
    size = pattern.chunk_beats * beat_bytes
    chunks = [sysmem[base + offset : base + offset + size] for offset in pattern.offsets()]
    for chunk in chunks:
        if chunk.size != size:
            raise IndexError("outside system memory")
    return np.concatenate(chunks) if chunks else np.zeros(0, np.uint8)


def scatter(sysmem: Bytes, base: int, pattern: Pattern, beat_bytes: int, data: Bytes) -> None:
    size = pattern.chunk_beats * beat_bytes
    for k, offset in enumerate(pattern.offsets()):
        if base + offset + size > sysmem.size:
            raise IndexError("outside system memory")
        sysmem[base + offset : base + offset + size] = data[k * size : (k + 1) * size]


def aligned(config: NpuConfig, *addresses: int) -> bool:
    return all(a % config.beat_bytes == 0 for a in addresses)


def _load(mem: NpuMemories, config: NpuConfig, sysmem: Bytes, cmd: Load) -> NpuError:
    size = word_bytes(config, cmd.buffer)
    data = gather(sysmem, cmd.src, cmd.pattern, config.beat_bytes)
    if cmd.flip and cmd.buffer is Buffer.ACT:
        data = data ^ np.uint8(0x80)
    words = data.size // size
    bank_depth = depth(config, cmd.buffer)
    fits = max(0, min(words, bank_depth - cmd.local_addr))
    m = config.array
    first = cmd.bank * bank_depth + cmd.local_addr
    for k in range(fits):
        word = data[k * size : (k + 1) * size]
        if cmd.buffer is Buffer.ACT:
            mem.act[cmd.bank, cmd.local_addr + k] = word[:m].view(np.int8)
        elif cmd.buffer is Buffer.WEIGHT:
            mem.weights[first + k] = word[: m * m].view(np.int8).reshape(m, m)
        else:
            fields = unpack(param_layout(config), int.from_bytes(word.tobytes(), "little"))
            mem.bias[first + k] = fields["bias"]
            for name, value in fields["params"].items():
                mem.params[name][first + k] = value
    return NpuError.NONE if fits == words else NpuError.OUT_OF_BANK


def _store(mem: NpuMemories, config: NpuConfig, sysmem: Bytes, cmd: Store) -> NpuError:
    m = config.array
    words = cmd.pattern.beats * config.beat_bytes // m
    fits = max(0, min(words, config.out_depth - cmd.local_addr))
    first = cmd.bank * config.out_depth + cmd.local_addr
    data = np.zeros((words, m), np.uint8)
    data[:fits] = mem.out[first : first + fits]
    scatter(sysmem, cmd.dst, cmd.pattern, config.beat_bytes, data.reshape(-1))
    return NpuError.NONE if fits == words else NpuError.OUT_OF_BANK


@dataclass(frozen=True)
class Outcome:
    error: NpuError = NpuError.NONE
    command: int = 0  # the index of the command that failed


def run_program(
    mem: NpuMemories, config: NpuConfig, sysmem: Bytes, commands: Sequence[Command]
) -> Outcome:
    """Run the commands in order; the first that fails stops the program. (The RTL overlaps
    them, but never two that conflict: the order is all that shows.)"""
    if not 0 < len(commands) <= config.cmd_depth:
        return Outcome(NpuError.PROGRAM_SIZE)
    for index, cmd in enumerate(commands):
        try:
            if isinstance(cmd, Load):
                if not aligned(config, cmd.src, cmd.pattern.stride0, cmd.pattern.stride1):
                    return Outcome(NpuError.ALIGNMENT, index)
                error = _load(mem, config, sysmem, cmd)
            elif isinstance(cmd, Store):
                if not aligned(config, cmd.dst, cmd.pattern.stride0, cmd.pattern.stride1):
                    return Outcome(NpuError.ALIGNMENT, index)
                error = _store(mem, config, sysmem, cmd)
            else:
                conv = ConvCommand(**cmd.conv)
                error = check(conv, config)
                if error is NpuError.NONE:
                    execute(mem, conv)
        except IndexError:
            return Outcome(NpuError.BUS_ERROR, index)
        if error is not NpuError.NONE:
            return Outcome(error, index)
    return Outcome()


def compute_of(cmd: Compute) -> ConvCommand:
    return ConvCommand(**cmd.conv)
