"""`nox -s real`: torchvision networks as a user runs them, through the hwgen command.

ResNet-18, ResNet-50, MobileNetV2, MobileNetV3-Small, EfficientNet-B0, ShuffleNetV2 x0.5,
MnasNet 0.5 and SqueezeNet 1.1 at 224x224 (hwgen.examples.skeletons: torch's export, random
weights, quantize_static QOperator, per-channel int8) are compiled for the ULX3S (`hwgen
compile --board ulx3s`, which checks the NPU fits it) and run by the c backend; all but
ResNet-50 at 64x64, and the bundled ResNet-8, are co-simulated with the RTL. Every run
checks each layer against golden as it is produced; here the outputs are compared with
onnxruntime's, and the co-simulations' NPU cycles with the cycle model's, layer by layer. Wall
times, and the peak memory of each run's processes, land in build/bench.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx

from hwgen.examples import networks, skeletons
from hwgen.examples.quantize import Format, quantize
from hwgen.oracle import onnxruntime_outputs

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "real"
BENCH_JSON = ROOT / "build" / "bench.json"
# The architectures of real CNNs' other operators (squeeze-excite, hard-swish, SiLU, channel
# shuffle, means, requantizing concats), after the plain convolutional ones.
OPERATOR_NETWORKS = (
    "mobilenet_v3_small",
    "efficientnet_b0",
    "shufflenet_v2_x0_5",
    "mnasnet0_5",
    "squeezenet1_1",
)
C_BACKEND = (
    "resnet18-224",
    "resnet50-224",
    "mobilenet_v2-224",
    *(f"{name}-224" for name in OPERATOR_NETWORKS),
)
COSIM = (
    "resnet18-64",
    "mobilenet_v2-64",
    "resnet8",
    *(f"{name}-64" for name in OPERATOR_NETWORKS),
)
BOARD = "ulx3s"

# Runs a command and prints the peak resident memory of its process tree (the largest of the
# processes it waited for, itself included), in KiB.
_MEASURED = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 0), file=sys.stderr); "
    "sys.exit(code)"
)


def hwgen(*args: str) -> tuple[float, float]:
    """Run `hwgen ARGS` as a user would: (wall seconds, peak MiB of its processes)."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, sys.executable, "-m", "hwgen.cli", *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - began
    lines = done.stderr.strip().splitlines()
    if done.returncode != 0:
        sys.stderr.write("\n".join(lines[:-1]) + "\n")
        raise SystemExit(f"hwgen {' '.join(args)} failed")
    return seconds, int(lines[-1]) / 1024


def model_of(name: str) -> onnx.ModelProto:
    if name == "resnet8":
        return quantize(networks.resnet8(), networks.RESNET8_INPUT, Format.QOPERATOR, True)
    return skeletons.quantized(name)


def run(name: str, backend: str) -> dict[str, float]:
    model = model_of(name)
    path = WORK / f"{name}.onnx"
    onnx.save(model, str(path))
    build = WORK / name
    compile_s, compile_mib = hwgen(
        "compile", str(path), "-o", str(build), "--board", BOARD, "--force"
    )
    shape = skeletons.input_shape(model)
    x = {"input": np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)}
    inputs, outputs = WORK / f"{name}-in.npz", WORK / f"{name}-{backend}.npz"
    np.savez(inputs, **x)
    if backend == "cosim":
        # The first builds the simulator (or finds it cached); the second is what a run costs.
        hwgen("sim", str(build), "--inputs", str(inputs), "--outputs", str(outputs))
        run_s, run_mib = hwgen(
            "sim", str(build), "--inputs", str(inputs), "--outputs", str(outputs)
        )
    else:
        args = ("--backend", backend, "--inputs", str(inputs), "--outputs", str(outputs))
        run_s, run_mib = hwgen("run", str(build), *args)
    got = np.load(outputs)
    for key, want in onnxruntime_outputs(model, x).items():
        if not np.array_equal(got[key].view(np.uint32), want.view(np.uint32)):
            raise SystemExit(f"{name}: output '{key}' differs from onnxruntime's")
    report = json.loads((build / "report.json").read_text())
    figures = {
        "compile_seconds": compile_s,
        "compile_peak_mib": compile_mib,
        f"{backend}_seconds": run_s,
        f"{backend}_peak_mib": run_mib,
        "npu_utilization_model": report["totals"]["npu_utilization_model"],
        "fits_board": float(report["board_fit"]["fits"]),
    }
    if backend == "cosim":
        rtl = {layer["name"]: layer["cycles_rtl"] for layer in report["layers"] if layer["npu"]}
        model_cycles = {
            layer["name"]: layer["cycles_model"] for layer in report["layers"] if layer["npu"]
        }
        if rtl != model_cycles:
            raise SystemExit(f"{name}: RTL cycles differ from the model's: {rtl} {model_cycles}")
        figures["npu_cycles_rtl"] = report["totals"]["npu_cycles_rtl"]
        figures["npu_utilization_rtl"] = report["totals"]["npu_utilization_rtl"]
    return figures


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    found: dict[str, float] = {}
    rows = []
    for backend, names in (("c", C_BACKEND), ("cosim", COSIM)):
        for name in names:
            figures = run(name, backend)
            key = name.replace("-", "_")
            found.update({f"real_{key}_{k}": v for k, v in figures.items()})
            rows.append((name, backend, figures))
            print(
                f"{name:17s} {backend:5s} compile {figures['compile_seconds']:5.1f} s "
                f"({figures['compile_peak_mib']:,.0f} MiB), run "
                f"{figures[f'{backend}_seconds']:6.1f} s ({figures[f'{backend}_peak_mib']:,.0f} "
                f"MiB): == onnxruntime, every layer == golden"
                + (", RTL cycles == model per layer" if backend == "cosim" else ""),
                flush=True,
            )
    previous = json.loads(BENCH_JSON.read_text()) if BENCH_JSON.exists() else {}
    BENCH_JSON.write_text(json.dumps({**previous, **found}, indent=2) + "\n")
    print(f"wrote {BENCH_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
