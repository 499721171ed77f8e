"""The requant unit under Verilator, both modes, 100,000 random vectors each, checked against
sim_models.requant (itself proven equal to onnxruntime's float rule in tests/)."""

from __future__ import annotations

import pytest

from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.requant import requant_unit
from verification.runner import run_cocotb


@pytest.mark.parametrize("mode", list(RequantMode), ids=lambda m: m.value)
def test_requant_unit(mode: RequantMode) -> None:
    run_cocotb(
        lambda: requant_unit(NpuConfig(requant=mode)),
        toplevel=f"requant_{mode.value}",
        test_module="verification.requant_tb",
        params="unit",
        extra_env={"REQUANT_MODE": mode.value, "REQUANT_VECTORS": "100000"},
    )
