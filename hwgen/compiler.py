"""The compilation of a model: the frontend, then named passes in order, each graph dumpable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.frontend import Dialect, load
from hwgen.ir import Graph, Target
from hwgen.npu.config import ARRAY_SIZES, REQUANT_INTERVALS, RequantMode
from hwgen.passes import fuse_activation, fuse_requant_shift, memory_plan, npu_plan, placement
from hwgen.passes.memory_plan import MemoryPlan
from hwgen.passes.npu_plan import NpuPlan

DEFAULT_ARRAY = 8
DEFAULT_L1 = 64 * 1024


@dataclass(frozen=True)
class CompileOptions:
    """Every choice that shapes a build: the manifest records them all."""

    array: int = DEFAULT_ARRAY
    l1: int = DEFAULT_L1
    requant: RequantMode | None = None  # None: the network's own rule
    requant_interval: int = 1  # cycles per channel in the requant unit (NpuConfig)
    place: Mapping[str, Target] = field(default_factory=dict)
    dialect: Dialect | None = None  # None: detected from the graph
    board: str | None = None  # the board the NPU was sized for, if any

    def __post_init__(self) -> None:
        if self.array not in ARRAY_SIZES:
            raise HwgenError(f"--array {self.array}: the array size must be one of {ARRAY_SIZES}")
        if self.requant_interval not in REQUANT_INTERVALS:
            raise HwgenError(
                f"--requant-interval {self.requant_interval}: must be one of {REQUANT_INTERVALS}"
            )
        if self.l1 < 64:
            raise HwgenError(f"--l1 {self.l1}: at least 64 bytes")

    def as_dict(self) -> dict[str, Any]:
        return {
            "array": self.array,
            "l1": self.l1,
            "requant": self.requant.value if self.requant else None,
            "requant_interval": self.requant_interval,
            "place": {name: target.value for name, target in sorted(self.place.items())},
            "dialect": self.dialect.value if self.dialect else None,
            "board": self.board,
        }

    @staticmethod
    def from_dict(values: Mapping[str, Any]) -> CompileOptions:
        return CompileOptions(
            array=int(values["array"]),
            l1=int(values["l1"]),
            requant=RequantMode(values["requant"]) if values.get("requant") else None,
            requant_interval=int(values["requant_interval"]),
            place={name: Target(where) for name, where in values.get("place", {}).items()},
            dialect=Dialect(values["dialect"]) if values.get("dialect") else None,
            board=values.get("board"),
        )


@dataclass
class Compilation:
    graph: Graph
    options: CompileOptions
    npu: NpuPlan | None = None
    memory: MemoryPlan | None = None
    steps: list[str] = field(default_factory=list)


GraphDump = Callable[[int, str, Graph], None]
GraphStep = Callable[[Graph], Graph]


def graph_steps(options: CompileOptions) -> list[tuple[str, GraphStep]]:
    """The passes over the graph, in order, by name."""
    return [
        ("lowered", lambda g: g),
        (fuse_requant_shift.NAME, fuse_requant_shift.apply),
        (fuse_activation.NAME, fuse_activation.apply),
        (placement.NAME, lambda g: placement.apply(g, options.place)),
    ]


def compile_graph(
    graph: Graph, options: CompileOptions, dump: GraphDump | None = None
) -> Compilation:
    result = Compilation(graph, options)
    for index, (name, step) in enumerate(graph_steps(options)):
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


def compile_model(
    model: str | Path, options: CompileOptions, dump: GraphDump | None = None
) -> Compilation:
    """Read, lower and compile an ONNX file."""
    return compile_graph(load(model, options.dialect), options, dump)
