"""The requant unit under Verilator, both modes, 100,000 random vectors each, checked against
sim_models.requant (itself proven equal to onnxruntime's float rule in tests/)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.requant import requant_unit
from hwgen.sim.runner import run_cocotb, run_cocotb_sources
from verification.dsp_models import mult18x18d_model


@pytest.mark.parametrize(
    ("mode", "interval", "vectors"),
    [
        (RequantMode.ORT, 1, 100_000),
        (RequantMode.SHIFT, 1, 100_000),
        # The serial product of a unit that takes a request every 2 or 4 cycles (iCE40).
        (RequantMode.ORT, 2, 20_000),
        (RequantMode.ORT, 4, 40_000),
        (RequantMode.SHIFT, 4, 20_000),
    ],
    ids=lambda v: v.value if isinstance(v, RequantMode) else str(v),
)
def test_requant_unit(mode: RequantMode, interval: int, vectors: int) -> None:
    run_cocotb(
        lambda: requant_unit(NpuConfig(requant=mode, requant_interval=interval)),
        toplevel=f"requant_{mode.value}",
        test_module="verification.requant_tb",
        params=f"interval{interval}",
        extra_env={
            "REQUANT_MODE": mode.value,
            "REQUANT_VECTORS": str(vectors),
            "REQUANT_INTERVAL": str(interval),
        },
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
