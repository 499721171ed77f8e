"""The NPU behind its UART bridge, under Verilator: registers, errors and damaged frames, and
a small network run end to end through the protocol, bit-exact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hwgen.backends.host import host_library
from hwgen.boards.top import BridgedNpu
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.sim.runner import run_cocotb

DIVISOR = 8  # clocks per bit: a fast line keeps the simulation short
BYTE_TIMEOUT = 64 * DIVISOR
STREAM_TIMEOUT = 4096
SYSMEM_BYTES = 16384


def test_bridge_runs_a_network_through_the_uart(tmp_path: Path) -> None:
    model = quantize(networks.mlp(), networks.MLP_INPUT, Format.QOPERATOR, False)
    build, _ = compile_build(model, CompileOptions(array=4, l1=96), tmp_path / "build")
    config = build.config
    job = {
        "build": str(build.directory),
        "library": str(host_library(build.network)),
        "result": str(tmp_path / "result.json"),
        "divisor": DIVISOR,
        "byte_timeout": BYTE_TIMEOUT,
        "stream_timeout": STREAM_TIMEOUT,
        "sysmem_bytes": SYSMEM_BYTES,
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    run_cocotb(
        lambda: BridgedNpu(
            config,
            DIVISOR,
            SYSMEM_BYTES,
            byte_timeout=BYTE_TIMEOUT,
            stream_timeout=STREAM_TIMEOUT,
        ),
        "bridged_npu",
        "verification.bridge_tb",
        f"m{config.array}-{hashlib.sha256(repr(config).encode()).hexdigest()[:12]}",
        {"HWGEN_BRIDGE_JOB": str(tmp_path / "job.json")},
    )
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["naks"] == 2 and len(result["problems"]) == 4, result
