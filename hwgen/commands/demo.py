"""`hwgen demo`: the bundled example CNN end to end — quantized by onnxruntime, checked against
onnxruntime, compiled to an NPU and host C, co-simulated (host C + RTL under Verilator) with
every layer checked against the golden model — then a summary and the report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from rich.console import Console
from rich.table import Table

from examples import networks
from examples.quantize import demo_cnn
from hwgen.backends import golden
from hwgen.backends.cosim import run_cosim
from hwgen.codegen.c_network import generate_c
from hwgen.codegen.rtl import emit_npu
from hwgen.compiler import CompileOptions, compile_graph
from hwgen.errors import HwgenError
from hwgen.frontend import lower_or_raise
from hwgen.ir import Graph
from hwgen.ir.to_onnx import to_onnx
from hwgen.npz import save_npz
from hwgen.oracle import onnxruntime_outputs
from hwgen.outdir import atomic_directory
from hwgen.report import report, with_rtl_cycles
from hwgen.report_html import render


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
    model: onnx.ModelProto, graph: Graph, batches: list[np.ndarray]
) -> int:
    for x in batches:
        got = golden.run(graph, {"input": x})
        want = onnxruntime_outputs(model, {"input": x})
        for name in graph.outputs:
            if not np.array_equal(got[name].view(np.uint32), want[name].view(np.uint32)):
                raise HwgenError("the golden model differs from onnxruntime on the example")
    return len(batches)


def handle(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if args.inputs < 1:
        raise HwgenError("--inputs must be at least 1")
    options = CompileOptions(array=args.array, l1=args.l1)
    with console.status("building the example CNN and quantizing it with onnxruntime"):
        model = demo_cnn()
        graph = lower_or_raise(model)
    rng = np.random.default_rng(0)
    batches = [
        rng.uniform(-1.5, 1.5, size=networks.CNN_INPUT).astype(np.float32)
        for _ in range(args.inputs)
    ]
    checked = _check_against_onnxruntime(model, graph, batches)
    console.print(f"golden model == onnxruntime on {checked} random inputs, bit for bit")

    out = Path(args.output)
    with atomic_directory(out, force=True) as staging:
        onnx.save(model, str(staging / "model.onnx"))
        save_npz(staging / "inputs.npz", {"input": batches[0]})
        (staging / "graph").mkdir()
        with console.status(f"compiling for a {args.array}x{args.array} NPU"):
            comp = compile_graph(
                lower_or_raise(model),
                options,
                lambda i, name, g: onnx.save(
                    to_onnx(g), str(staging / "graph" / f"{i:02d}_{name}.onnx")
                ),
            )
            assert comp.npu is not None
            emit_npu(comp.npu.config, staging / "rtl")
            generate_c(comp, staging / "sw")
        with console.status(
            "co-simulating the host C with the NPU RTL under Verilator "
            "(the first run builds the simulator)"
        ):
            result = run_cosim(staging / "model.onnx", [{"input": x} for x in batches], options)
        summary = with_rtl_cycles(report(comp), result.layer_cycles)
        (staging / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
        (staging / "report.html").write_text(render(summary))
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
        f"{totals['npu_utilization_rtl']:.1%}; co-simulation {result.run_seconds:.1f} s"
    )
    console.print(f"report: {out / 'report.html'}  (try: hwgen check {out}/model.onnx)")
    return 0
