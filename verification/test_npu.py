"""The emitted NPU (wrapper + Amaranth core) under Verilator, through cocotbext-axi."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.codegen.rtl import emit_npu
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.sim.runner import build_dir, run_cocotb_sources
from verification.npu_env import encode


@pytest.mark.parametrize("mode", list(RequantMode), ids=lambda m: m.value)
@pytest.mark.parametrize("m", [2, 4, 8])
def test_npu(m: int, mode: RequantMode) -> None:
    config = NpuConfig(
        array=m,
        requant=mode,
        max_reduction=64,
        act_depth=128,
        weight_depth=64,
        param_depth=32,
        out_depth=128,
    )

    def emit(directory: Path) -> list[Path]:
        return emit_npu(config, directory).sources

    params = f"m{m}-{mode.value}"
    run_cocotb_sources(emit, "npu_top", "verification.npu_tb", params, encode(config))

    # The NPU is large enough for Verilator to split its model over several C++ files, which
    # it would compile against 140 MB of precompiled headers left in the build directory.
    built = build_dir("npu_top", params)
    assert len(list(built.glob("Vtop___024root__1*.cpp"))) > 0, "the model was not split"
    footprint = sum(f.stat().st_size for f in built.rglob("*") if f.is_file())
    assert footprint < 30 * 2**20, f"the simulator build keeps {footprint / 2**20:.0f} MB"
