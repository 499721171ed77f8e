"""The emitted RTL: SystemVerilog, a wrapper with AMBA names, clean Verilator lint."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hwgen.codegen.rtl import emit_npu
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.toolchain import verilator_root

SMALL = {
    "act_depth": 64,
    "weight_depth": 32,
    "param_depth": 16,
    "out_depth": 64,
}


@pytest.mark.parametrize("mode", list(RequantMode), ids=lambda m: m.value)
@pytest.mark.parametrize("m", [2, 8])
def test_emitted_rtl_passes_verilator_lint(tmp_path: Path, m: int, mode: RequantMode) -> None:
    config = NpuConfig(array=m, requant=mode, data_width=min(32, 8 * m), **SMALL)  # type: ignore[arg-type]
    files = emit_npu(config, tmp_path / "rtl")
    core = files.core.read_text()
    assert "always_ff" in core  # SystemVerilog, not Verilog-2001
    top = files.top.read_text()
    assert "s_axil_awaddr" in top and "m_axi_araddr" in top and "`default_nettype none" in top
    root = verilator_root()
    proc = subprocess.run(
        [
            str(root / "bin" / "verilator"),
            "--lint-only",
            "-Wall",
            "--top-module",
            "npu_top",
            str(files.waivers),
            *(str(s) for s in files.sources),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"VERILATOR_ROOT": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "%Warning" not in proc.stderr, proc.stderr[-3000:]
