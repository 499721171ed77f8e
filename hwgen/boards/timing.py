"""Which registers miss the clock: nextpnr's detailed timing report (`--detailed-timing-report`)
gives each endpoint's arrival, the latest time its value settles after the clock edge. Its
critical path names one path; a design that misses by a margin usually misses on many, and
grouping the late endpoints by the register they belong to names them all at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# What nextpnr and yosys append to a design's own name for a cell: a flip-flop's or LUT's
# mapping suffix, a bit index, a block RAM's tile coordinates.
_SUFFIXES = (re.compile(r"_TRELLIS_.*|_LUT4.*|_PFUMX.*|_CCU2C.*|\$.*"), re.compile(r"\[\d+\]"))
_BLOCK = re.compile(r"\.\d+\.\d+$")


@dataclass(frozen=True)
class LateRegister:
    """A register (or memory) of the design with endpoints that settle after the period."""

    name: str
    endpoints: int
    worst_arrival_ns: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "register": self.name,
            "endpoints": self.endpoints,
            "worst_arrival_ns": self.worst_arrival_ns,
        }


def register_of(cell: str) -> str:
    """The design's name for the register a placed cell belongs to."""
    for pattern in _SUFFIXES:
        cell = pattern.sub("", cell)
    return _BLOCK.sub("", cell)


def _arrivals(report: Mapping[str, Any]) -> Iterable[tuple[str, float]]:
    for net in report.get("detailed_net_timings", []):
        for endpoint in net["endpoints"]:
            delay = endpoint["delay"]
            yield endpoint["cell"], float(max(delay) if isinstance(delay, list) else delay)


def late_registers(
    report: Mapping[str, Any], period_ns: float, limit: int = 12
) -> list[LateRegister]:
    """The registers with an endpoint arriving after `period_ns`, latest first."""
    late: dict[str, list[float]] = {}
    for cell, arrival in _arrivals(report):
        if arrival > period_ns:
            late.setdefault(register_of(cell), []).append(arrival)
    ranked = sorted(late.items(), key=lambda item: -max(item[1]))
    return [
        LateRegister(name, len(arrivals), round(max(arrivals), 2))
        for name, arrivals in ranked[:limit]
    ]
