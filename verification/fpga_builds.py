"""`nox -s fpga`: the demo network's streaming NPU as a ULX3S 85F bitstream at M = 8, placed and
routed for 100 MHz, with resources and Fmax printed, written to the build's report.json and
merged into build/bench.json. (The iCEBreaker cannot hold a streaming NPU beside its bridge:
hwgen refuses it, see boards/icebreaker/board.toml.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx

from hwgen.examples.quantize import demo_cnn

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "fpga"
BENCH_JSON = ROOT / "build" / "bench.json"
# Board, array, MHz, placer seeds (hwgen fpga --seeds).
TARGETS = [("ulx3s", 8, 100.0, 1)]


def _hwgen(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "hwgen.cli", *args], check=True)


def main() -> int:
    BUILD.mkdir(parents=True, exist_ok=True)
    model = BUILD / "demo.onnx"
    onnx.save(demo_cnn(), str(model))
    figures: dict[str, float | bool] = {}
    failed = []
    for board, m, mhz, seeds in TARGETS:
        out = BUILD / f"{board}-m{m}"
        _hwgen(
            "compile", str(model), "-o", str(out), "--board", board, "--array", str(m), "--force"
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "hwgen.cli",
                "fpga",
                str(out),
                "--board",
                board,
                "--freq",
                str(mhz),
                "--seeds",
                str(seeds),
            ]
        )
        report = json.loads((out / "report.json").read_text()).get("fpga", {}).get(board)
        if done.returncode != 0 or report is None:
            failed.append(board)
            continue
        key = f"fpga_{board.replace('-', '_')}_m{m}"
        figures[f"{key}_fmax_mhz"] = report["fmax_mhz"]
        figures[f"{key}_target_met"] = report["timing_met"]
        for name, use in report["resources"].items():
            figures[f"{key}_{name}_used"] = use["used"]
        figures[f"{key}_build_seconds"] = report["seconds"]
        figures[f"{key}_placements"] = len(report["fmax_by_attempt"])
    for key, value in figures.items():
        print(f"{key:44s} {value}")
    previous = json.loads(BENCH_JSON.read_text()) if BENCH_JSON.exists() else {}
    BENCH_JSON.write_text(json.dumps({**previous, **figures}, indent=2) + "\n")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    not_met = [k for k, v in figures.items() if k.endswith("_target_met") and not v]
    return 1 if failed or not_met else 0


if __name__ == "__main__":
    sys.exit(main())
