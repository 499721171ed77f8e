"""Builds of models in memory, for tests: compiled once into a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx

from hwgen.backends.functional_npu import FunctionalNpu
from hwgen.backends.host import host_library
from hwgen.backends.host_program import HostProgram
from hwgen.build import Build
from hwgen.builder import compile_build
from hwgen.compiler import Compilation, CompileOptions


def build_of(model: onnx.ModelProto, directory: Path, **options: Any) -> tuple[Build, Compilation]:
    return compile_build(model, CompileOptions(**options), directory / "build")


def functional_program(build: Build, *, sanitize: bool = False) -> HostProgram:
    """The build's host C, loaded, with the functional NPU behind its HAL."""
    library = host_library(build.network, sanitize=sanitize)
    return HostProgram(library, build.network, build.graph, FunctionalNpu(build.config))
