"""`hwgen sim OUT --inputs IN.npz`: co-simulate a compiled network's host C with its NPU RTL,
check every layer against the golden model, and put the RTL's cycles into the report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from hwgen.backends import golden
from hwgen.backends.cosim import run_cosim
from hwgen.compiler import CompileOptions
from hwgen.errors import HwgenError
from hwgen.frontend import load
from hwgen.npz import load_npz, save_npz
from hwgen.report import with_rtl_cycles
from hwgen.report_html import render


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sim", help="co-simulate a compiled network (host C + NPU RTL)")
    p.add_argument("output", help="a directory written by hwgen compile")
    p.add_argument("--inputs", required=True, help=".npz keyed by the graph's input names")
    p.add_argument("--outputs", help=".npz to write the outputs to")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    out = Path(args.output)
    report_file = out / "report.json"
    if not report_file.is_file() or not (out / "model.onnx").is_file():
        raise HwgenError(f"'{out}' is not a directory written by hwgen compile")
    summary = json.loads(report_file.read_text())
    options = CompileOptions(**summary["options"])
    inputs = load_npz(args.inputs)
    golden.check_inputs(load(out / "model.onnx"), inputs)
    console = Console(highlight=False)
    with console.status("co-simulating the host C with the NPU RTL (Verilator)"):
        result = run_cosim(out / "model.onnx", [inputs], options)
    summary = with_rtl_cycles(summary, result.layer_cycles)
    report_file.write_text(json.dumps(summary, indent=2) + "\n")
    (out / "report.html").write_text(render(summary))
    if args.outputs:
        save_npz(args.outputs, result.outputs[0])
    totals = summary["totals"]
    console.print(
        f"bit-exact: every layer equals golden; NPU {totals['npu_cycles_rtl']:,} cycles (RTL), "
        f"utilization {totals['npu_utilization_rtl']:.1%}; {result.simulated_cycles:,} cycles "
        f"simulated in {result.run_seconds:.1f} s"
    )
    console.print(f"updated {report_file} and {out / 'report.html'}")
    return 0
