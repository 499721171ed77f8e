"""What the backends that run the host C share: the C built as a shared library (once per
source text, in the per-user cache), and a checked run of it against any NPU port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hwgen.backends.base import Inputs, RunResult
from hwgen.backends.host_program import BitMismatchError, HostProgram, NpuPort
from hwgen.build import Build
from hwgen.cache import cache_dir, files_key
from hwgen.codegen.c_abi import CNetwork, LayerC
from hwgen.errors import HwgenError
from hwgen.ir import Target

CFLAGS = ["-std=c11", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
LIBRARY = "libnetwork.so"


def _compiler() -> str:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise HwgenError("no C compiler (cc) on PATH: the host C is built with it")
    return compiler


def build_library(network: CNetwork, output: Path, *, sanitize: bool = False) -> Path:
    """Compile the network's C into `output`. The generated C compiles warning-free: a warning
    or error is a bug of hwgen's, reported with the compiler's message."""
    command = [
        _compiler(),
        *CFLAGS,
        *(SANITIZE if sanitize else []),
        "-o",
        str(output.resolve()),
        *(s.name for s in network.sources),
        "-lm",
    ]
    # The NPU image is linked in with .incbin, found beside the C: built in its directory.
    proc = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=network.directory
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the generated C did not build:\n{proc.stderr[-4000:]}")
    return output


def host_library(network: CNetwork, *, sanitize: bool = False) -> Path:
    """The network's C as a shared library, built once per source text and compiler."""
    sources = sorted(p for p in network.directory.iterdir() if p.suffix in (".c", ".h", ".bin"))
    compiler = _compiler()
    key = files_key(sources, compiler, *CFLAGS, *(SANITIZE if sanitize else []))
    library = cache_dir("host") / key / LIBRARY
    if not library.exists():
        library.parent.mkdir(parents=True, exist_ok=True)
        # Built beside its final name and renamed: a parallel run never loads half a file.
        fd, partial = tempfile.mkstemp(dir=library.parent, suffix=".so")
        os.close(fd)
        try:
            build_library(network, Path(partial), sanitize=sanitize)
            os.replace(partial, library)
        finally:
            Path(partial).unlink(missing_ok=True)
    return library


def run_host_checked(
    build: Build,
    library: Path,
    port: NpuPort,
    inputs: Sequence[Inputs],
    label: str,
    after_layer: Callable[[LayerC], None] | None = None,
) -> RunResult:
    """Run the build's host C on each input with `port` as its NPU, every layer checked
    against golden; the NPU layers' busy cycles as the port's NPU counted them."""
    graph = build.graph
    npu_layers = {n.name for n in graph.nodes if n.target is Target.NPU}
    layer_cycles: dict[str, int] = {}

    began = time.perf_counter()
    program = HostProgram(library, build.network, graph, port)

    def observe(layer: LayerC) -> None:
        if layer.node in npu_layers:  # every program of the layer, as the driver counted
            layer_cycles[layer.node] = program.npu_counters().busy_cycles
        if after_layer is not None:
            after_layer(layer)

    outputs = []
    for feed in inputs:
        try:
            outputs.append(program.run_checked(feed, observe))
        except BitMismatchError as exc:
            raise HwgenError(f"{label} differs from golden: {exc.mismatch.describe()}") from None
    return RunResult(outputs, layer_cycles, seconds=time.perf_counter() - began)
