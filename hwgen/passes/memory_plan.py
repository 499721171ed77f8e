"""Static L2 memory plan: every buffer of the storage plan (hwgen.passes.storage) gets an
offset for its lifetime, known at compile time; buffers whose lifetimes do not overlap share
space."""

from __future__ import annotations

from dataclasses import dataclass, field

from hwgen.passes.storage import Buffer

NAME = "plan_memory"
ALIGN = 64  # bytes: every buffer starts on a whole number of DMA beats and cache lines


@dataclass(frozen=True)
class Allocation:
    tensor: str
    offset: int
    size: int
    first: int  # index of the producing node (-1: a graph input)
    last: int  # index of the last reader (len(nodes): a graph output)


@dataclass
class MemoryPlan:
    allocations: list[Allocation] = field(default_factory=list)

    def offset(self, buffer: str) -> int:
        return self._offsets[buffer]

    @property
    def _offsets(self) -> dict[str, int]:
        return {a.tensor: a.offset for a in self.allocations}

    @property
    def peak(self) -> int:
        return max((a.offset + a.size for a in self.allocations), default=0)

    def usage_over_time(self, steps: int) -> list[int]:
        """Bytes live during each node's execution."""
        return [
            sum(a.size for a in self.allocations if a.first <= t <= a.last) for t in range(steps)
        ]


def _aligned(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


def apply(buffers: list[Buffer]) -> MemoryPlan:
    """Largest first, each at the lowest offset free for its whole lifetime."""
    ordered = sorted(buffers, key=lambda b: (-_aligned(b.size), b.first, b.name))
    plan = MemoryPlan()
    for buffer in ordered:
        size = _aligned(buffer.size)
        overlapping = sorted(
            (a.offset, a.offset + a.size)
            for a in plan.allocations
            if not (a.last < buffer.first or buffer.last < a.first)
        )
        offset = 0
        for lo, hi in overlapping:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        plan.allocations.append(Allocation(buffer.name, offset, size, buffer.first, buffer.last))
    plan.allocations.sort(key=lambda a: (a.first, a.tensor))
    return plan
