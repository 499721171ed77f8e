"""The `cosim` backend: the build's host C against the build's RTL under Verilator, through
cocotb (hwgen/sim/cosim_tb.py), every layer checked against golden. The simulator is built once
per RTL source text and kept in the per-user cache; the testbench reads the build and never
compiles anything."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hwgen import extras
from hwgen.backends.base import Backend, Inputs, RunResult
from hwgen.backends.golden import check_inputs
from hwgen.backends.host import host_library
from hwgen.build import Build
from hwgen.cache import files_key
from hwgen.errors import HwgenError
from hwgen.progress import Status, quiet

JOB_VARIABLE = "HWGEN_COSIM_JOB"


class CosimBackend(Backend):
    name = "cosim"
    extra = "sim"
    summary = "the generated host C against the generated RTL under Verilator (cocotb)"

    def __init__(self, *, stall: float = 0.0) -> None:
        """`stall`: the chance that each bus channel pauses in a cycle (idle and
        backpressure), for testing."""
        self.stall = stall

    def run(self, build: Build, inputs: Sequence[Inputs], status: Status = quiet) -> RunResult:
        extras.require("sim", "co-simulation")
        from hwgen.sim import sysmem
        from hwgen.sim.runner import CocotbFailure, build_dir, run_cocotb_sources
        from hwgen.sim.sim_top import DPI_SOURCE, TOP, emit_sim_top

        feeds = [check_inputs(build.graph, feed) for feed in inputs]
        rtl = build.rtl_sources()
        with status("building the host C"):
            library = host_library(build.network)
        with tempfile.TemporaryDirectory(prefix="hwgen-cosim-") as tmp:
            work = Path(tmp)
            savez: Any = np.savez  # numpy's stub types **kwds as its own flags
            savez(work / "inputs.npz", **{k: np.stack([f[k] for f in feeds]) for k in feeds[0]})
            job = {
                "build": str(build.directory.resolve()),
                "library": str(library),
                "inputs": str(work / "inputs.npz"),
                "outputs": str(work / "outputs.npz"),
                "result": str(work / "result.json"),
                "stall": self.stall,
            }
            (work / "job.json").write_text(json.dumps(job))

            def emit(directory: Path) -> list[Path]:
                copies = []
                for source in rtl:
                    copy = directory / source.name
                    if not copy.exists() or copy.read_bytes() != source.read_bytes():
                        shutil.copyfile(source, copy)
                    copies.append(copy)
                own, _ = emit_sim_top(build.config, directory)
                return [*copies, *own]

            key = files_key(rtl, json.dumps(build.config.as_dict(), sort_keys=True))
            simulator = build_dir(TOP, f"cosim-{key}")

            with status(
                "co-simulating the host C with the NPU RTL under Verilator "
                "(a new RTL builds its simulator first)"
            ):
                try:
                    run_cocotb_sources(
                        emit,
                        TOP,
                        "hwgen.sim.cosim_tb",
                        f"cosim-{key}",
                        {JOB_VARIABLE: str(work / "job.json")},
                        build_args=[str(simulator / DPI_SOURCE), *sysmem.BUILD_ARGS],
                    )
                except CocotbFailure as exc:
                    raise _failure(work / "result.json", exc) from None
            result = json.loads((work / "result.json").read_text())
            with np.load(work / "outputs.npz") as data:
                stacked = {k: data[k] for k in data.files}
        return RunResult(
            outputs=[{k: v[i] for k, v in stacked.items()} for i in range(len(feeds))],
            layer_cycles=result["layer_cycles"],
            simulated_cycles=result["simulated_cycles"],
            seconds=result["wall_seconds"],
        )


def _failure(result_file: Path, exc: Exception) -> HwgenError:
    """What a failed co-simulation says: the testbench's own error, where it wrote one."""
    if result_file.exists():
        error = json.loads(result_file.read_text()).get("error")
        if error:
            return HwgenError(error)
    return HwgenError(f"the co-simulation failed: {exc}")
