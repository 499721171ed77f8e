"""Static L2 memory plan: every runtime tensor gets an offset for its lifetime, known at compile
time; tensors whose lifetimes do not overlap share space."""

from __future__ import annotations

from dataclasses import dataclass, field

from hwgen.ir import Graph

NAME = "plan_memory"
ALIGN = 16  # bytes: keeps every tensor aligned for word-wide DMA


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


def apply(graph: Graph) -> MemoryPlan:
    end = len(graph.nodes)
    first: dict[str, int] = {name: -1 for name in graph.inputs}
    last: dict[str, int] = {}
    for index, node in enumerate(graph.nodes):
        for name in node.inputs:
            if not graph.is_constant(name):
                last[name] = index
        for name in node.outputs:
            first[name] = index
    for name in graph.outputs:
        last[name] = end
    lifetimes = [
        (
            name,
            first[name],
            last.get(name, first[name]),
            _aligned(graph.type_of(name).size * graph.type_of(name).dtype.numpy.itemsize),
        )
        for name in first
    ]
    # Largest first, each at the lowest offset free for its whole lifetime.
    lifetimes.sort(key=lambda t: (-t[3], t[1], t[0]))
    plan = MemoryPlan()
    for name, start, stop, size in lifetimes:
        overlapping = sorted(
            (a.offset, a.offset + a.size)
            for a in plan.allocations
            if not (a.last < start or stop < a.first)
        )
        offset = 0
        for lo, hi in overlapping:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        plan.allocations.append(Allocation(name, offset, size, start, stop))
    plan.allocations.sort(key=lambda a: (a.first, a.tensor))
    return plan
