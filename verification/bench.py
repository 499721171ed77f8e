"""`nox -s bench`: run the benchmarks, print figures and ratios, write build/bench.json."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from hwgen.npu.config import NpuConfig
from hwgen.npu.core import Core
from hwgen.sim.runner import run_cocotb
from verification.npu_env import encode

BENCH_JSON = Path(__file__).resolve().parent.parent / "build" / "bench.json"

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


def resnet8_cosim() -> dict[str, float]:
    """Compile the ResNet-8-sized example and co-simulate one inference at M = 8."""
    import numpy as np
    import onnx

    from hwgen.backends import golden
    from hwgen.backends.cosim import CosimBackend
    from hwgen.builder import compile_build
    from hwgen.compiler import CompileOptions
    from hwgen.examples import networks
    from hwgen.examples.quantize import Format, quantize

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet8.onnx"
        onnx.save(
            quantize(networks.resnet8(), networks.RESNET8_INPUT, Format.QOPERATOR, True), str(path)
        )
        options = CompileOptions(array=8, l1=8192)
        began = time.perf_counter()
        build, comp = compile_build(path, options, Path(tmp) / "build")
        assert comp.npu is not None
        compile_seconds = time.perf_counter() - began
        x = np.random.default_rng(0).uniform(-1.5, 1.5, networks.RESNET8_INPUT).astype(np.float32)
        CosimBackend().run(build, [{"input": x}])  # builds the simulator once
        result = CosimBackend().run(build, [{"input": x}])
        want = golden.run(build.graph, {"input": x})
        for key, value in want.items():
            assert np.array_equal(result.outputs[0][key].view(np.uint32), value.view(np.uint32))
    npu_cycles = sum(result.layer_cycles.values())
    return {
        "compile_resnet8_seconds": compile_seconds,
        "cosim_resnet8_seconds": result.seconds,
        "cosim_cycles_per_second": (result.simulated_cycles or 0) / result.seconds,
        "resnet8_npu_cycles_rtl": npu_cycles,
        "resnet8_npu_utilization": sum(layer.macs for layer in comp.npu.layers) / (npu_cycles * 64),
    }


def main() -> int:
    figures = {**npu_utilization(), **resnet8_cosim()}
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
    print(
        f"ResNet-8 at M=8: compile {figures['compile_resnet8_seconds']:.1f} s; co-simulation "
        f"of one inference {figures['cosim_resnet8_seconds']:.1f} s "
        f"({figures['cosim_cycles_per_second']:,.0f} cycles/s); NPU "
        f"{figures['resnet8_npu_cycles_rtl']:,.0f} cycles, utilization "
        f"{figures['resnet8_npu_utilization']:.3f}"
    )
    print(f"wrote {BENCH_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
