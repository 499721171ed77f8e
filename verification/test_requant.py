"""The requant unit under Verilator, both modes, 100,000 random vectors each, checked against
sim_models.requant (itself proven equal to onnxruntime's float rule in tests/)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.requant import requant_unit
from verification.dsp_models import mult18x18d_model
from verification.runner import run_cocotb, run_cocotb_sources


@pytest.mark.parametrize("mode", list(RequantMode), ids=lambda m: m.value)
def test_requant_unit(mode: RequantMode) -> None:
    run_cocotb(
        lambda: requant_unit(NpuConfig(requant=mode)),
        toplevel=f"requant_{mode.value}",
        test_module="verification.requant_tb",
        params="unit",
        extra_env={"REQUANT_MODE": mode.value, "REQUANT_VECTORS": "100000"},
    )


@pytest.mark.parametrize("mode", list(RequantMode), ids=lambda m: m.value)
def test_requant_unit_in_ecp5_dsps(mode: RequantMode) -> None:
    """As elaborated for an ECP5: the partial products in MULT18X18D blocks."""
    from hwgen.codegen.verilog import emit_systemverilog

    ecp5 = SimpleNamespace(device="LFE5U-85F")
    toplevel = f"requant_{mode.value}"

    def emit(directory: Path) -> list[Path]:
        model = directory / "mult18x18d.v"
        model.write_text(mult18x18d_model())
        top = directory / f"{toplevel}.sv"
        top.write_text(emit_systemverilog(requant_unit(NpuConfig(requant=mode)), toplevel, ecp5))
        return [model, top]

    run_cocotb_sources(
        emit,
        toplevel,
        "verification.requant_tb",
        "ecp5",
        {"REQUANT_MODE": mode.value, "REQUANT_VECTORS": "20000"},
    )
