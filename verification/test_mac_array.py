"""MacArray under Verilator for M in {2, 4, 8}."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hwgen.npu.config import NpuConfig
from hwgen.npu.mac_array import MacArray
from hwgen.sim.runner import run_cocotb, run_cocotb_sources
from verification.dsp_models import mult18x18d_model, yosys_ice40_model


def _config(m: int) -> NpuConfig:
    """An M x M NPU's configuration: an M = 2 array's vectors take a 16-bit bus."""
    return NpuConfig(array=m, data_width=min(32, 8 * m))


def tb_env(m: int) -> dict[str, str]:
    return {"NPU_ARRAY": str(m), "NPU_SUM_WIDTH": str(_config(m).sum_width)}


@pytest.mark.parametrize("m", [2, 4, 8])
def test_mac_array(m: int) -> None:
    run_cocotb(
        lambda: MacArray(_config(m)),
        toplevel="mac_array",
        test_module="verification.mac_array_tb",
        params=f"m{m}",
        extra_env=tb_env(m),
    )


@pytest.mark.parametrize("m", [2, 4])
def test_mac_array_in_ice40_dsps(m: int) -> None:
    """The products in SB_MAC16 blocks (dual 8x8 mode), simulated with yosys's model of the
    cell: the same test as the inferred multipliers."""
    from hwgen.codegen.verilog import emit_systemverilog

    def emit(directory: Path) -> list[Path]:
        model = directory / "sb_mac16.v"
        model.write_text(yosys_ice40_model("SB_MAC16"))
        top = directory / "mac_array.sv"
        ice40 = SimpleNamespace(device="iCE40UP5K")  # 8 SB_MAC16: every product at M <= 4
        top.write_text(emit_systemverilog(MacArray(_config(m)), "mac_array", ice40))
        return [model, top]

    run_cocotb_sources(emit, "mac_array", "verification.mac_array_tb", f"m{m}-mac16", tb_env(m))


@pytest.mark.parametrize("m", [2, 8])
def test_mac_array_in_ecp5_dsps(m: int) -> None:
    """The products in MULT18X18D blocks with their input and output registers, simulated with
    the model in verification.dsp_models: the same test as the inferred multipliers."""
    from hwgen.codegen.verilog import emit_systemverilog

    def emit(directory: Path) -> list[Path]:
        model = directory / "mult18x18d.v"
        model.write_text(mult18x18d_model())
        top = directory / "mac_array.sv"
        ecp5 = SimpleNamespace(device="LFE5U-85F")
        top.write_text(emit_systemverilog(MacArray(_config(m)), "mac_array", ecp5))
        return [model, top]

    run_cocotb_sources(emit, "mac_array", "verification.mac_array_tb", f"m{m}-mult18", tb_env(m))
