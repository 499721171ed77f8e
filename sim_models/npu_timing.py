"""How many cycles an NPU program takes, transfers included, as the RTL spends them: the
sequencer's rules (hwgen/npu/sequencer.py) followed event by event, each engine's command taking
its closed-form duration (the core's cycles(), the loader's and the storer's per beat).

Cycles are numbered from the one in which the sequencer sees `start` (cycle 0):
- the program fetch is a load of the program's beats, started in cycle 1;
- the first command is looked at RUN_LATENCY cycles after the fetch's `done`, each later one
  the cycle after the one before it started;
- a command starts in the first cycle, from the one it is looked at, in which its engine is
  free and every running command it conflicts with is over (hwgen.npu.sequencer); its engine
  sees `start` the next cycle and is done `duration` cycles after that, free again (with its
  banks) the cycle after `done`;
- the program is done once the last command has started and every engine is free: BUSY_CYCLES
  counts from cycle 1 to that cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hwgen.npu.commands import RECORD_BITS, Buffer, Command, Compute, Load, Store
from hwgen.npu.config import NpuConfig
from hwgen.npu.loader import load_duration
from hwgen.npu.sequencer import RUN_LATENCY
from hwgen.npu.storer import store_duration
from hwgen.sim_models.npu import ConvCommand, cycles

ENGINES = ("load", "core", "store")


def engine_of(cmd: Command) -> str:
    return "load" if isinstance(cmd, Load) else "core" if isinstance(cmd, Compute) else "store"


def duration(cmd: Command, config: NpuConfig) -> int:
    """Cycles from the one where its engine sees `start` to the one of its `done`."""
    if isinstance(cmd, Load):
        return load_duration(cmd.pattern.beats)
    if isinstance(cmd, Store):
        return store_duration(cmd.pattern.beats)
    return cycles(ConvCommand(**cmd.conv), config)


def conflicts(cmd: Command, running: Command) -> bool:
    """Whether `cmd` may not start while `running` (of another engine) runs."""
    if isinstance(cmd, Load) and isinstance(running, Compute):
        return cmd.bank == _bank_read(running, cmd.buffer)
    if isinstance(cmd, Compute) and isinstance(running, Load):
        return running.bank == _bank_read(cmd, running.buffer)
    if isinstance(cmd, Compute) and isinstance(running, Store):
        return cmd.out_bank == running.bank
    if isinstance(cmd, Store) and isinstance(running, Compute):
        return cmd.bank == running.out_bank
    return False


def _bank_read(compute: Compute, buffer: Buffer) -> int:
    return {
        Buffer.ACT: compute.act_bank,
        Buffer.WEIGHT: compute.weight_bank,
        Buffer.PARAM: compute.param_bank,
    }[buffer]


@dataclass
class Span:
    """One command's life: looked at, started (its engine sees start the cycle after), done."""

    looked: int
    issued: int
    done: int

    @property
    def free(self) -> int:
        return self.done + 1


@dataclass
class ProgramTiming:
    busy: int  # BUSY_CYCLES
    engines: dict[str, int]  # LOAD_CYCLES, CORE_CYCLES, STORE_CYCLES: each engine's busy cycles
    mac: int  # MAC_CYCLES: the array's steps
    fetch_beats: int
    spans: list[Span] = field(default_factory=list)


def program_timing(commands: Sequence[Command], config: NpuConfig) -> ProgramTiming:
    fetch_beats = len(commands) * RECORD_BITS // config.data_width
    fetch = Span(0, 0, 1 + load_duration(fetch_beats))
    engines = {name: load_duration(fetch_beats) if name == "load" else 0 for name in ENGINES}
    # The command each engine runs now, with its span; free from the fetch's end.
    running: dict[str, tuple[Command, Span] | None] = {name: None for name in ENGINES}
    free_at = dict.fromkeys(ENGINES, fetch.free)
    look = fetch.done + RUN_LATENCY
    spans = []
    mac = 0
    for cmd in commands:
        engine = engine_of(cmd)
        start = max(look, free_at[engine])
        for other, entry in running.items():
            if other != engine and entry is not None:
                active, span = entry
                if span.free > start and conflicts(cmd, active):
                    start = span.free
        length = duration(cmd, config)
        span = Span(look, start, start + 1 + length)
        spans.append(span)
        running[engine] = (cmd, span)
        free_at[engine] = span.free
        engines[engine] += length
        if isinstance(cmd, Compute):
            mac += ConvCommand(**cmd.conv).steps
        look = start + 1
    end = max(look, *free_at.values())
    return ProgramTiming(end, engines, mac, fetch_beats, spans)
