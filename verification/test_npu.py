"""The emitted NPU (wrapper + Amaranth core) under Verilator, through cocotbext-axi."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.codegen.rtl import emit_npu
from hwgen.npu.config import NpuConfig, RequantMode
from verification.npu_env import encode
from verification.runner import run_cocotb_sources


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

    run_cocotb_sources(emit, "npu_top", "verification.npu_tb", f"m{m}-{mode.value}", encode(config))
