"""The compilation of a lowered graph: named passes in order, each graph dumpable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hwgen.errors import HwgenError
from hwgen.ir import Graph, Target
from hwgen.npu.config import ARRAY_SIZES, REQUANT_INTERVALS, RequantMode
from hwgen.passes import fuse_activation, fuse_requant_shift, memory_plan, npu_plan, placement
from hwgen.passes.memory_plan import MemoryPlan
from hwgen.passes.npu_plan import NpuPlan


@dataclass(frozen=True)
class CompileOptions:
    array: int = 8
    l1: int = 64 * 1024
    requant: RequantMode | None = None  # None: the network's own rule
    requant_interval: int = 1  # cycles per channel in the requant unit (NpuConfig)
    place: Mapping[str, Target] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.array not in ARRAY_SIZES:
            raise HwgenError(f"--array {self.array}: the array size must be one of {ARRAY_SIZES}")
        if self.requant_interval not in REQUANT_INTERVALS:
            raise HwgenError(
                f"--requant-interval {self.requant_interval}: must be one of {REQUANT_INTERVALS}"
            )
        if self.l1 < 64:
            raise HwgenError(f"--l1 {self.l1}: at least 64 bytes")


@dataclass
class Compilation:
    graph: Graph
    options: CompileOptions
    npu: NpuPlan | None = None
    memory: MemoryPlan | None = None
    steps: list[str] = field(default_factory=list)


GraphDump = Callable[[int, str, Graph], None]


def compile_graph(
    graph: Graph, options: CompileOptions, dump: GraphDump | None = None
) -> Compilation:
    result = Compilation(graph, options)
    graph_steps: list[tuple[str, Callable[[Graph], Graph]]] = [
        ("lowered", lambda g: g),
        (fuse_requant_shift.NAME, fuse_requant_shift.apply),
        (fuse_activation.NAME, fuse_activation.apply),
        (placement.NAME, lambda g: placement.apply(g, options.place)),
    ]
    for index, (name, step) in enumerate(graph_steps):
        result.graph = step(result.graph)
        result.steps.append(name)
        if dump is not None:
            dump(index, name, result.graph)
    result.npu = npu_plan.apply(result.graph, options.array, options.requant_interval)
    if options.requant is not None and options.requant is not result.npu.config.requant:
        raise HwgenError(
            f"--requant {options.requant.value}: this network's requantization is the "
            f"{result.npu.config.requant.value} rule (ort for onnxruntime's graphs, shift for "
            "Deeploy / NEMO graphs)"
        )
    result.steps.append(npu_plan.NAME)
    result.memory = memory_plan.apply(result.graph)
    result.steps.append(memory_plan.NAME)
    return result
