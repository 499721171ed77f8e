"""`hwgen demo`: the bundled example CNN end to end — quantized by onnxruntime, checked against
onnxruntime, compiled to an NPU and host C, co-simulated (host C + RTL under Verilator) with
every layer checked against the golden model — then a summary and the report."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from rich.console import Console
from rich.table import Table

from hwgen import extras
from hwgen.backends import golden
from hwgen.backends.cosim import CosimBackend
from hwgen.build import Build
from hwgen.builder import write_build, write_report
from hwgen.compiler import CompileOptions
from hwgen.errors import HwgenError
from hwgen.examples import networks
from hwgen.examples.quantize import demo_cnn
from hwgen.ir import Graph
from hwgen.npz import save_npz
from hwgen.oracle import onnxruntime_outputs
from hwgen.outdir import atomic_directory
from hwgen.report import with_rtl_cycles


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="compile and co-simulate the bundled example CNN")
    p.add_argument(
        "-o",
        "--output",
        default="hwgen-demo",
        help="directory for the compiled example (default: hwgen-demo)",
    )
    p.add_argument("--array", type=int, default=8, help="array size M (default 8)")
    p.add_argument("--l1", type=int, default=4096, help="host L1 bytes (default 4096)")
    p.add_argument("--inputs", type=int, default=3, help="random inputs to co-simulate (default 3)")
    p.set_defaults(handler=handle)


def _check_against_onnxruntime(
    model: onnx.ModelProto, graph: Graph, batches: list[dict[str, np.ndarray]]
) -> int:
    for feed in batches:
        got = golden.run(graph, feed)
        want = onnxruntime_outputs(model, feed)
        for name in graph.outputs:
            if not np.array_equal(got[name].view(np.uint32), want[name].view(np.uint32)):
                raise HwgenError("the golden model differs from onnxruntime on the example")
    return len(batches)


def handle(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if args.inputs < 1:
        raise HwgenError("--inputs must be at least 1")
    extras.require("sim", "hwgen demo (it co-simulates the example)")
    options = CompileOptions(array=args.array, l1=args.l1)
    rng = np.random.default_rng(0)
    batches = [
        {"input": rng.uniform(-1.5, 1.5, size=networks.CNN_INPUT).astype(np.float32)}
        for _ in range(args.inputs)
    ]
    out = Path(args.output)
    with tempfile.TemporaryDirectory() as tmp, atomic_directory(out, force=True) as staging:
        with console.status("building the example CNN and quantizing it with onnxruntime"):
            model = demo_cnn()
            source = Path(tmp) / "model.onnx"
            onnx.save(model, str(source))
        write_build(source, options, staging, status=console.status)
        build = Build.open(staging)
        checked = _check_against_onnxruntime(model, build.graph, batches)
        console.print(f"golden model == onnxruntime on {checked} random inputs, bit for bit")
        save_npz(staging / "inputs.npz", batches[0])
        result = CosimBackend().run(build, batches, console.status)
        summary = with_rtl_cycles(build.report(), result.layer_cycles)
        write_report(staging, summary)
        save_npz(staging / "outputs.npz", result.outputs[0])

    table = Table(title=f"example CNN on a {args.array}x{args.array} NPU")
    for column in ("layer", "placement", "MACs", "cycles model", "cycles RTL", "utilization"):
        table.add_column(column, justify="left" if column in ("layer", "placement") else "right")
    for layer in summary["layers"]:
        table.add_row(
            layer["name"],
            layer["placement"],
            f"{layer['macs']:,}",
            f"{layer['cycles_model']:,}" if layer["cycles_model"] is not None else "",
            f"{layer['cycles_rtl']:,}" if layer["cycles_rtl"] is not None else "",
            f"{layer['utilization']:.1%}" if layer["utilization"] is not None else "",
        )
    console.print(table)
    totals = summary["totals"]
    console.print(
        f"[bold green]bit-exact[/]: host C + RTL == golden on every layer of {len(batches)} "
        f"inputs; NPU {totals['npu_cycles_rtl']:,} cycles per inference, utilization "
        f"{totals['npu_utilization_rtl']:.1%}; co-simulation {result.seconds:.1f} s"
    )
    console.print(f"report: {out / 'report.html'}  (try: hwgen check {out}/model.onnx)")
    return 0
