"""Compile a model and build its host C, for the backends that run the C (c, cosim)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hwgen.backends.c import build_library
from hwgen.codegen.c_network import CNetwork, generate_c
from hwgen.compiler import Compilation, CompileOptions, compile_graph
from hwgen.ir import Graph


@dataclass
class BuiltNetwork:
    compilation: Compilation
    network: CNetwork
    library: Path

    @property
    def graph(self) -> Graph:
        return self.compilation.graph


def build_network(
    graph: Graph, options: CompileOptions, directory: Path, *, sanitize: bool = False
) -> BuiltNetwork:
    """Compile `graph`, write its C into `directory` and build it as a shared library."""
    comp = compile_graph(graph, options)
    network = generate_c(comp, directory)
    library = build_library(network, directory / "libnetwork.so", sanitize=sanitize)
    return BuiltNetwork(comp, network, library)
