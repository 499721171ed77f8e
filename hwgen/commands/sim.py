"""`hwgen sim OUT --inputs IN.npz`: co-simulate a build's host C with its NPU RTL, check every
layer against the golden model, and put the RTL's cycles into the build's report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from hwgen.backends.cosim import CosimBackend
from hwgen.build import Build
from hwgen.builder import write_report
from hwgen.npz import load_npz, save_npz
from hwgen.report import with_rtl_cycles


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sim", help="co-simulate a build (host C + NPU RTL)")
    p.add_argument("output", help="a directory written by hwgen compile")
    p.add_argument("--inputs", required=True, help=".npz keyed by the graph's input names")
    p.add_argument("--outputs", help=".npz to write the outputs to")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    build = Build.open(args.output)
    inputs = load_npz(args.inputs)
    console = Console(highlight=False)
    result = CosimBackend().run(build, [inputs], console.status)
    summary = with_rtl_cycles(build.report(), result.layer_cycles)
    write_report(build.directory, summary)
    if args.outputs:
        save_npz(args.outputs, result.outputs[0])
    totals = summary["totals"]
    console.print(
        f"bit-exact: every layer equals golden; NPU {totals['npu_cycles_rtl']:,} cycles (RTL), "
        f"utilization {totals['npu_utilization_rtl']:.1%}; {result.simulated_cycles:,} cycles "
        f"simulated in {result.seconds:.1f} s"
    )
    console.print(f"updated {Path(args.output) / 'report.json'} and report.html")
    return 0
