"""The compilation of a model: the frontend, then named passes in order, each graph dumpable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.frontend import Dialect, load
from hwgen.ir import Graph, Target
from hwgen.ir.types import DType
from hwgen.npu.budget import Budget
from hwgen.npu.config import (
    ARRAY_SIZES,
    DATA_WIDTHS,
    REQUANT_INTERVALS,
    REQUANT_LANES,
    RequantMode,
)
from hwgen.passes import (
    collapse_movement,
    fuse_activation,
    fuse_requant_shift,
    memory_plan,
    npu_image,
    npu_plan,
    placement,
    storage,
    synthesize_requant,
    unfold_stem,
)
from hwgen.passes.memory_plan import MemoryPlan
from hwgen.passes.npu_image import NpuImage
from hwgen.passes.npu_plan import NpuPlan
from hwgen.passes.storage import Storage

DEFAULT_BUDGET = Budget()
DEFAULT_ARRAY = DEFAULT_BUDGET.array
DEFAULT_L1 = 128 * 1024


@dataclass(frozen=True)
class CompileOptions:
    """Every choice that shapes a build: the manifest records them all."""

    array: int = DEFAULT_ARRAY
    # The NPU's buffers (KiB, both banks), command memory and bus: hwgen.npu.budget.
    act_kib: float = DEFAULT_BUDGET.act_kib
    weight_kib: float = DEFAULT_BUDGET.weight_kib
    out_kib: float = DEFAULT_BUDGET.out_kib
    param_kib: float = DEFAULT_BUDGET.param_kib
    commands: int = DEFAULT_BUDGET.commands
    data_width: int = DEFAULT_BUDGET.data_width
    l1: int = DEFAULT_L1
    requant: RequantMode | None = None  # None: the network's own rule
    requant_interval: int = DEFAULT_BUDGET.requant_interval  # NpuConfig's
    requant_lanes: int = DEFAULT_BUDGET.requant_lanes
    serial_setup: bool = DEFAULT_BUDGET.serial_setup
    place: Mapping[str, Target] = field(default_factory=dict)
    dialect: Dialect | None = None  # None: detected from the graph
    # An integer graph's 8-bit input types where not int8 (its float container does not say).
    input_types: Mapping[str, DType] = field(default_factory=dict)
    board: str | None = None  # the board the NPU was sized for, if any

    def __post_init__(self) -> None:
        if self.array not in ARRAY_SIZES:
            raise HwgenError(f"--array {self.array}: the array size must be one of {ARRAY_SIZES}")
        if self.requant_interval not in REQUANT_INTERVALS:
            raise HwgenError(
                f"--requant-interval {self.requant_interval}: must be one of {REQUANT_INTERVALS}"
            )
        if self.requant_lanes not in REQUANT_LANES:
            raise HwgenError(
                f"--requant-lanes {self.requant_lanes}: must be one of {REQUANT_LANES}"
            )
        if self.l1 < 64:
            raise HwgenError(f"--l1 {self.l1}: at least 64 bytes")
        if self.data_width not in DATA_WIDTHS:
            raise HwgenError(f"--bus {self.data_width}: the data bus is one of {DATA_WIDTHS} bits")
        for flag, value in (
            ("--act-kib", self.act_kib),
            ("--weight-kib", self.weight_kib),
            ("--out-kib", self.out_kib),
            ("--param-kib", self.param_kib),
            ("--commands", self.commands),
        ):
            if not value > 0:
                raise HwgenError(f"{flag} {value}: must be positive")

    @property
    def budget(self) -> Budget:
        return Budget(
            self.array,
            self.act_kib,
            self.weight_kib,
            self.out_kib,
            self.param_kib,
            self.commands,
            self.data_width,
            self.requant_interval,
            self.requant_lanes,
            self.serial_setup,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "array": self.array,
            **{k: v for k, v in self.budget.as_dict().items() if k != "array"},
            "l1": self.l1,
            "requant": self.requant.value if self.requant else None,
            "place": {name: target.value for name, target in sorted(self.place.items())},
            "dialect": self.dialect.value if self.dialect else None,
            "input_types": {name: t.value for name, t in sorted(self.input_types.items())},
            "board": self.board,
        }

    @staticmethod
    def from_dict(values: Mapping[str, Any]) -> CompileOptions:
        budget = Budget.from_dict(
            {k: values[k] for k in Budget.__dataclass_fields__ if k in values}
        )
        return CompileOptions(
            array=budget.array,
            act_kib=budget.act_kib,
            weight_kib=budget.weight_kib,
            out_kib=budget.out_kib,
            param_kib=budget.param_kib,
            commands=budget.commands,
            data_width=budget.data_width,
            requant_interval=budget.requant_interval,
            requant_lanes=budget.requant_lanes,
            serial_setup=budget.serial_setup,
            l1=int(values["l1"]),
            requant=RequantMode(values["requant"]) if values.get("requant") else None,
            place={name: Target(where) for name, where in values.get("place", {}).items()},
            dialect=Dialect(values["dialect"]) if values.get("dialect") else None,
            input_types={n: DType(t) for n, t in values.get("input_types", {}).items()},
            board=values.get("board"),
        )


@dataclass
class Compilation:
    graph: Graph
    options: CompileOptions
    npu: NpuPlan | None = None
    storage: dict[str, Storage] = field(default_factory=dict)
    memory: MemoryPlan | None = None
    image: NpuImage | None = None
    steps: list[str] = field(default_factory=list)


GraphDump = Callable[[int, str, Graph], None]
GraphStep = Callable[[Graph], Graph]


def graph_steps(options: CompileOptions) -> list[tuple[str, GraphStep]]:
    """The passes over the graph, in order, by name."""
    return [
        ("lowered", lambda g: g),
        (synthesize_requant.NAME, synthesize_requant.apply),
        (fuse_requant_shift.NAME, fuse_requant_shift.apply),
        (fuse_activation.NAME, fuse_activation.apply),
        (collapse_movement.NAME, collapse_movement.apply),
        (placement.NAME, lambda g: placement.apply(g, options.place)),
        (unfold_stem.NAME, lambda g: unfold_stem.apply(g, options.array)),
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
    result.npu = npu_plan.apply(result.graph, options.budget)
    if options.requant is not None and options.requant is not result.npu.config.requant:
        raise HwgenError(
            f"--requant {options.requant.value}: this network's requantization is the "
            f"{result.npu.config.requant.value} rule (ort for onnxruntime's graphs, shift for "
            "Deeploy / NEMO graphs)"
        )
    result.steps.append(npu_plan.NAME)
    result.storage, buffers = storage.plan(result.graph, options.array)
    result.memory = memory_plan.apply(buffers)
    result.steps.append(memory_plan.NAME)
    npu_io = {
        node.name: (node.inputs[0], node.outputs[0])
        for node in result.graph.nodes
        if node.target is Target.NPU
    }
    result.image = npu_image.apply(result.npu, result.memory, result.storage, npu_io)
    result.steps.append(npu_image.NAME)
    return result


def compile_model(
    model: str | Path, options: CompileOptions, dump: GraphDump | None = None
) -> Compilation:
    """Read, lower and compile an ONNX file."""
    return compile_graph(load(model, options.dialect, options.input_types), options, dump)
