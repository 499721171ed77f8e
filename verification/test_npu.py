"""The emitted NPU (wrapper + Amaranth core) with its system memory under Verilator: the
co-simulation's own top (hwgen.sim.sim_top), registers through cocotbext-axi."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.codegen.rtl import emit_npu
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.sim import sysmem
from hwgen.sim.runner import build_dir, run_cocotb_sources
from hwgen.sim.sim_top import TOP, emit_sim_top
from verification.npu_env import encode

CONFIGS = [
    NpuConfig(array=4, act_depth=128, weight_depth=64, param_depth=32, out_depth=64, cmd_depth=128),
    NpuConfig(
        array=8,
        act_depth=256,
        weight_depth=64,
        param_depth=64,
        out_depth=96,
        cmd_depth=200,
        requant=RequantMode.SHIFT,
        requant_lanes=2,
    ),
    NpuConfig(
        array=8,
        act_depth=192,
        weight_depth=48,
        param_depth=32,
        out_depth=64,
        data_width=64,
        requant_lanes=4,
        serial_setup=True,
    ),
]


@pytest.mark.parametrize(
    "config",
    CONFIGS,
    ids=[f"m{c.array}-{c.requant.value}-{c.data_width}b-l{c.requant_lanes}" for c in CONFIGS],
)
def test_npu(config: NpuConfig) -> None:
    cpp: list[Path] = []

    def emit(directory: Path) -> list[Path]:
        sources, dpi = emit_sim_top(config, directory)
        cpp.append(dpi)
        return [*emit_npu(config, directory).sources, *sources]

    params = f"m{config.array}-{config.requant.value}-{config.data_width}"
    build = build_dir(TOP, params)
    run_cocotb_sources(
        emit,
        TOP,
        "verification.npu_tb",
        params,
        encode(config),
        build_args=[str(build / "sysmem_dpi.cpp"), *sysmem.BUILD_ARGS],
    )
    # The NPU is large enough for Verilator to split its model over several C++ files, which
    # it would compile against 140 MB of precompiled headers left in the build directory.
    footprint = sum(f.stat().st_size for f in build.rglob("*") if f.is_file())
    assert footprint < 40 * 2**20, f"the simulator build keeps {footprint / 2**20:.0f} MB"


def test_npu_top_under_axi_backpressure() -> None:
    """The generated wrapper, npu_top.sv, with its AXI4 master on cocotbext-axi's RAM and random
    stalls on every channel of both buses."""
    config = CONFIGS[1]

    def emit(directory: Path) -> list[Path]:
        return emit_npu(config, directory).sources

    run_cocotb_sources(emit, "npu_top", "verification.npu_axi_tb", "m8-axi-ram", encode(config))
