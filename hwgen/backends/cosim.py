"""The `cosim` backend: the generated host C against the generated RTL under Verilator, through
cocotb (hwgen/sim/cosim_tb.py). One simulator build per NpuConfig is kept and reused."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen.codegen.rtl import emit_npu
from hwgen.compiler import CompileOptions, compile_graph
from hwgen.errors import HwgenError
from hwgen.frontend import load


@dataclass
class CosimResult:
    outputs: list[dict[str, npt.NDArray[np.generic]]]
    layer_cycles: dict[str, int] = field(default_factory=dict)
    simulated_cycles: int = 0
    run_seconds: float = 0.0  # the co-simulated run, after the simulator build
    total_seconds: float = 0.0


def run_cosim(
    model: Path,
    inputs: Sequence[dict[str, npt.NDArray[np.generic]]],
    options: CompileOptions,
    *,
    stall: float = 0.0,
) -> CosimResult:
    from hwgen.sim.runner import run_cocotb_sources  # needs the dev extra (cocotb, verilator)

    began = time.perf_counter()
    comp = compile_graph(load(model), options)
    assert comp.npu is not None
    config = comp.npu.config
    key = hashlib.sha256(repr(config).encode()).hexdigest()[:12]
    with tempfile.TemporaryDirectory(prefix="hwgen-cosim-") as tmp:
        work = Path(tmp)
        savez: Any = np.savez  # numpy's stub types **kwds as its own flags
        savez(work / "inputs.npz", **{k: np.stack([i[k] for i in inputs]) for k in inputs[0]})
        job = {
            "model": str(Path(model).resolve()),
            "array": options.array,
            "l1": options.l1,
            "build": str(work / "sw"),
            "inputs": str(work / "inputs.npz"),
            "outputs": str(work / "outputs.npz"),
            "result": str(work / "result.json"),
            "stall": stall,
        }
        (work / "job.json").write_text(json.dumps(job))

        def emit(directory: Path) -> list[Path]:
            return emit_npu(config, directory / "rtl").sources

        try:
            run_cocotb_sources(
                emit,
                "npu_top",
                "hwgen.sim.cosim_tb",
                f"cosim-{key}",
                {"HWGEN_COSIM_JOB": str(work / "job.json")},
            )
        except AssertionError as exc:
            result_file = work / "result.json"
            if result_file.exists():
                mismatch = json.loads(result_file.read_text()).get("mismatch")
                if mismatch:
                    raise HwgenError(f"cosim differs from golden: {mismatch}") from None
            raise HwgenError(f"co-simulation failed: {exc}") from None
        result = json.loads((work / "result.json").read_text())
        with np.load(work / "outputs.npz") as data:
            stacked = {k: data[k] for k in data.files}
    count = len(inputs)
    return CosimResult(
        outputs=[{k: v[i] for k, v in stacked.items()} for i in range(count)],
        layer_cycles=result["layer_cycles"],
        simulated_cycles=result["simulated_cycles"],
        run_seconds=result["wall_seconds"],
        total_seconds=time.perf_counter() - began,
    )
