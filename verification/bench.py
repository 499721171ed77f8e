"""`nox -s bench`: run the benchmarks, print figures and ratios, write build/bench.json.

- the core alone under Verilator: a GEMM and a 3x3 convolution, utilization from its counters;
- the bundled ResNet-8 co-simulated at M = 8: the NPU's utilization from RTL cycles, transfers
  included, and the co-simulation's speed;
- torchvision ResNet-18, ResNet-50 and MobileNetV2 (hwgen.examples.skeletons) compiled for the
  default budget (M = 8, a 32-bit bus): compile time and the NPU's utilization by the cycle
  model, which the co-simulations show equal to the RTL; ResNet-18 at 64x64 too, whose last
  stages wait on their weights (the layers the roofline puts on the bus).
"""

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
    array=8, act_depth=8192, weight_depth=1024, param_depth=256, out_depth=8192, requant_lanes=2
)
# (skeleton, what is measured): compile time for all, the cycle model's utilization.
REAL = ("resnet18-224", "resnet50-224", "mobilenet_v2-224", "resnet18-64")


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


def real_networks() -> dict[str, float]:
    """Build each torchvision network for the default budget (hwgen compile: RTL, host C,
    report); its NPU utilization by the cycle model, and the layers bound by the bus rather
    than the array."""
    import onnx

    from hwgen.builder import compile_build
    from hwgen.compiler import CompileOptions
    from hwgen.examples import skeletons
    from hwgen.report import report

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in REAL:
            path = Path(tmp) / f"{name}.onnx"
            onnx.save(skeletons.quantized(name), str(path))
            began = time.perf_counter()  # the whole build: RTL, host C, report
            _, comp = compile_build(path, CompileOptions(array=8), Path(tmp) / name)
            seconds = time.perf_counter() - began
            assert comp.npu is not None
            summary = report(comp)["totals"]
            key = name.replace("-", "_")
            figures[f"compile_{key}_seconds"] = seconds
            figures[f"{key}_npu_cycles_model"] = summary["npu_cycles_model"]
            figures[f"{key}_npu_utilization"] = summary["npu_utilization_model"]
            layers = [entry["npu"] for entry in report(comp)["layers"] if entry["npu"]]
            figures[f"{key}_bus_bound_layers"] = sum(n["bound_by"] == "bus" for n in layers)
            figures[f"{key}_npu_layers"] = len(layers)
    return figures


def main() -> int:
    figures = {**npu_utilization(), **resnet8_cosim(), **real_networks()}
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
    print("torchvision networks, default budget (M=8, 32-bit bus), cycle model:")
    for name in REAL:
        key = name.replace("-", "_")
        print(
            f"  {name:17s} compile {figures[f'compile_{key}_seconds']:5.1f} s; NPU "
            f"{figures[f'{key}_npu_cycles_model']:>12,.0f} cycles, utilization "
            f"{figures[f'{key}_npu_utilization']:.3f}; "
            f"{figures[f'{key}_bus_bound_layers']:.0f} of {figures[f'{key}_npu_layers']:.0f} "
            "layers bound by the bus"
        )
    print(f"wrote {BENCH_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
