"""MacLane under Verilator through cocotb: proves Amaranth -> SystemVerilog -> Verilator ->
cocotb from a fresh install, against sim_models."""

from __future__ import annotations

import pytest

from hwgen.npu.mac_lane import MacLane
from verification.runner import run_cocotb


@pytest.mark.parametrize("operand_width", [8, 4])
def test_mac_lane(operand_width: int) -> None:
    run_cocotb(
        lambda: MacLane(operand_width=operand_width, acc_width=32),
        toplevel="mac_lane",
        test_module="verification.mac_lane_tb",
        params=f"w{operand_width}",
        extra_env={"MAC_OPERAND_WIDTH": str(operand_width)},
    )
