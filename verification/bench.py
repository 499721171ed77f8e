"""`nox -s bench`: run the benchmarks, print figures and ratios, write build/bench.json."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from hwgen.npu.config import NpuConfig
from hwgen.npu.core import Core
from verification.npu_env import encode
from verification.runner import ROOT, run_cocotb

BENCH_JSON = ROOT / "build" / "bench.json"

# Sized for the workloads: 256 rows x 32 blocks of activations, 32 x 32 weight blocks.
CONFIG = NpuConfig(
    array=8, max_reduction=1024, act_depth=8192, weight_depth=1024, param_depth=256, out_depth=8192
)


def npu_utilization() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run_cocotb(
            lambda: Core(CONFIG),
            toplevel="core",
            test_module="verification.bench_tb",
            params="bench-m8",
            extra_env={**encode(CONFIG), "BENCH_OUT": str(out)},
        )
        figures: dict[str, float] = json.loads(out.read_text())
    return {
        "gemm_utilization": figures["gemm_utilization"],
        "conv3x3_utilization": figures["conv3x3_utilization"],
        "rtl_sim_cycles_per_second": figures["rtl_sim_cycles_per_second"],
        "gemm_cycles_rtl": figures["gemm_busy_cycles"],
        "gemm_cycles_model": figures["gemm_model_cycles"],
        "conv3x3_cycles_rtl": figures["conv3x3_busy_cycles"],
        "conv3x3_cycles_model": figures["conv3x3_model_cycles"],
    }


def main() -> int:
    figures = npu_utilization()
    previous = json.loads(BENCH_JSON.read_text()) if BENCH_JSON.exists() else {}
    BENCH_JSON.parent.mkdir(parents=True, exist_ok=True)
    BENCH_JSON.write_text(json.dumps({**previous, **figures}, indent=2) + "\n")
    print(f"NPU at M={CONFIG.array} ({CONFIG.peak_macs_per_cycle} MAC/cycle peak):")
    for name in ("gemm", "conv3x3"):
        rtl, model = figures[f"{name}_cycles_rtl"], figures[f"{name}_cycles_model"]
        print(
            f"  {name:8s} utilization {figures[f'{name}_utilization']:.4f} of peak; "
            f"{rtl:,.0f} RTL cycles, model/RTL = {model / rtl:.4f}"
        )
    print(f"  RTL simulation: {figures['rtl_sim_cycles_per_second']:,.0f} cycles/s")
    print(f"wrote {BENCH_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
