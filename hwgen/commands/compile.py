"""`hwgen compile MODEL.onnx -o OUT`: the build every backend runs — the NPU's RTL, the host C,
the compiled graph, the graph after each pass, the report and a manifest (hwgen/build.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from hwgen.builder import compile_build
from hwgen.commands.options import add_compile_options, compile_options


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compile", help="generate the network's NPU, host C and report")
    p.add_argument("model", help="quantized ONNX model")
    p.add_argument("-o", "--output", required=True, help="output directory")
    add_compile_options(p)
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    options = compile_options(args)
    build, _ = compile_build(
        Path(args.model), options, Path(args.output), force=args.force, status=console.status
    )
    summary = build.report()
    npu = [entry for entry in summary["layers"] if entry["placement"] == "npu"]
    totals = summary["totals"]
    console.print(
        f"{len(summary['layers'])} layers: {len(npu)} on the NPU "
        f"({totals['npu_macs']:,} of {totals['macs']:,} MACs), the rest on the host"
    )
    if totals["npu_utilization_model"] is not None:
        console.print(
            f"NPU: {totals['npu_cycles_model']:,} cycles (model), utilization "
            f"{totals['npu_utilization_model']:.1%} of {options.array}x{options.array}"
        )
    floats = (summary.get("onnxruntime_float") or {}).get("layers") or []
    compared = [r for r in floats if r["total"] is not None]
    if compared:
        exact = sum(r["exact"] for r in compared)
        total = sum(r["total"] for r in compared)
        console.print(
            f"onnxruntime computes the nodes of {len(floats)} layers in float: hwgen's integer ops "
            f"equal it on {exact / total:.2%} of their elements, at most "
            f"{max(r['worst_lsb'] for r in compared)} LSB apart (report.html)"
        )
    fit = summary.get("board_fit")
    if fit:
        parts = ", ".join(f"{k} {v}" for k, v in fit["block_rams_by_part"].items())
        console.print(
            f"fits the {fit['board']}: {fit['block_rams']} of {fit['block_rams_available']} "
            f"block RAMs ({parts}), {fit['multipliers']} of {fit['multipliers_available']} "
            "multipliers (estimated from the design; hwgen fpga places and routes it)"
        )
    console.print(
        f"wrote {Path(args.output)}/: rtl/, sw/, compiled/, graph/, report.json, report.html"
    )
    return 0
