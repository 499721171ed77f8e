"""MacArray under Verilator for M in {2, 4, 8}."""

from __future__ import annotations

import pytest

from hwgen.npu.config import NpuConfig
from hwgen.npu.mac_array import MacArray
from verification.runner import run_cocotb


@pytest.mark.parametrize("m", [2, 4, 8])
def test_mac_array(m: int) -> None:
    run_cocotb(
        lambda: MacArray(NpuConfig(array=m)),
        toplevel="mac_array",
        test_module="verification.mac_array_tb",
        params=f"m{m}",
        extra_env={"NPU_ARRAY": str(m)},
    )
