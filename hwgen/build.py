"""A build: what `hwgen compile` writes, and the one thing every backend runs.

    OUT/manifest.json    format, hwgen version, every compile option, the NpuConfig, the graph's
                         inputs and outputs, and where the parts are
    OUT/model.onnx       the model it was compiled from
    OUT/compiled/        the compiled graph (graph.json + graph.npz): what golden runs, and
                         what every other backend is checked against, layer by layer
    OUT/sw/              the host C (runtime, generated network, npu_config.h, network.json)
    OUT/rtl/             the NPU's SystemVerilog, wrapper, lint waivers, file list
    OUT/graph/           the graph after each pass, as ONNX for Netron
    OUT/report.json      per-layer placement, cycles, memory; report.html beside it

A build holds only the parts it was asked for: `hwgen run --backend golden` writes no RTL or C.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from hwgen import __version__
from hwgen.codegen.c_abi import CNetwork
from hwgen.compiler import CompileOptions
from hwgen.errors import HwgenError
from hwgen.ir import Graph
from hwgen.ir.serialize import load_graph
from hwgen.npu.config import NpuConfig

FORMAT = 1
MANIFEST = "manifest.json"


class Part(enum.Enum):
    GRAPH = "compiled"  # always present
    SW = "sw"
    RTL = "rtl"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int, ...]

    def describe(self) -> str:
        return f"'{self.name}' {self.dtype}{list(self.shape)}"


@dataclass(frozen=True)
class Manifest:
    hwgen: str
    model: str  # the source model's file name
    options: CompileOptions
    config: NpuConfig | None
    parts: frozenset[Part]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    sysmem_bytes: int  # system memory the NPU image and L2 take

    def as_dict(self) -> dict[str, Any]:
        def specs(items: tuple[TensorSpec, ...]) -> list[dict[str, Any]]:
            return [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape)} for t in items]

        return {
            "format": FORMAT,
            "hwgen": self.hwgen,
            "model": self.model,
            "options": self.options.as_dict(),
            "config": self.config.as_dict() if self.config else None,
            "parts": sorted(p.value for p in self.parts),
            "inputs": specs(self.inputs),
            "outputs": specs(self.outputs),
            "sysmem_bytes": self.sysmem_bytes,
        }

    @staticmethod
    def from_dict(values: dict[str, Any]) -> Manifest:
        if values.get("format") != FORMAT:
            raise ValueError(f"manifest format {values.get('format')}, this hwgen reads {FORMAT}")

        def specs(key: str) -> tuple[TensorSpec, ...]:
            return tuple(TensorSpec(t["name"], t["dtype"], tuple(t["shape"])) for t in values[key])

        return Manifest(
            hwgen=values["hwgen"],
            model=values["model"],
            options=CompileOptions.from_dict(values["options"]),
            config=NpuConfig.from_dict(values["config"]) if values["config"] else None,
            parts=frozenset(Part(p) for p in values["parts"]),
            inputs=specs("inputs"),
            outputs=specs("outputs"),
            sysmem_bytes=int(values["sysmem_bytes"]),
        )


def manifest_for(
    graph: Graph,
    model: str,
    options: CompileOptions,
    config: NpuConfig | None,
    parts: set[Part],
    sysmem_bytes: int,
) -> Manifest:
    def specs(names: list[str]) -> tuple[TensorSpec, ...]:
        return tuple(
            TensorSpec(n, graph.type_of(n).dtype.value, graph.type_of(n).shape) for n in names
        )

    return Manifest(
        __version__,
        model,
        options,
        config,
        frozenset(parts | {Part.GRAPH}),
        specs(graph.inputs),
        specs(graph.outputs),
        sysmem_bytes,
    )


class Build:
    """A build directory, read: its manifest at once, its parts when asked for."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest

    @staticmethod
    def open(path: str | Path) -> Build:
        directory = Path(path)
        file = directory / MANIFEST
        if not file.is_file():
            raise HwgenError(
                f"'{directory}' is not a directory written by hwgen compile (no {MANIFEST})"
            )
        try:
            manifest = Manifest.from_dict(json.loads(file.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HwgenError(f"'{file}' cannot be read ({exc})") from None
        return Build(directory, manifest)

    def require(self, part: Part, why: str) -> Path:
        if part not in self.manifest.parts:
            raise HwgenError(
                f"the build at '{self.directory}' has no {part.value}/ ({why}); compile it "
                "with hwgen compile"
            )
        return self.directory / part.value

    @property
    def options(self) -> CompileOptions:
        return self.manifest.options

    @property
    def config(self) -> NpuConfig:
        if self.manifest.config is None:
            raise HwgenError(f"the build at '{self.directory}' has no NPU configuration")
        return self.manifest.config

    @cached_property
    def graph(self) -> Graph:
        return load_graph(self.directory / Part.GRAPH.value)

    @cached_property
    def network(self) -> CNetwork:
        return CNetwork.load(self.require(Part.SW, "the host C"))

    @property
    def model(self) -> Path:
        return self.directory / "model.onnx"

    @property
    def report_file(self) -> Path:
        return self.directory / "report.json"

    def report(self) -> dict[str, Any]:
        try:
            loaded: dict[str, Any] = json.loads(self.report_file.read_text())
        except (OSError, ValueError) as exc:
            raise HwgenError(f"'{self.report_file}' cannot be read ({exc})") from None
        return loaded

    def rtl_sources(self) -> list[Path]:
        """The SystemVerilog files, in the order of the file list."""
        rtl = self.require(Part.RTL, "the NPU's RTL")
        return [rtl / line.strip() for line in (rtl / "files.f").read_text().split() if line]
