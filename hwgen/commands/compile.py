"""`hwgen compile MODEL.onnx -o OUT`: the network's NPU RTL, its graph after each pass, and
its report."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import onnx
from rich.console import Console

from hwgen.boards.targets import BOARDS
from hwgen.codegen.c_network import generate_c
from hwgen.codegen.rtl import emit_npu
from hwgen.commands.options import add_dialect_option, dialect_of
from hwgen.compiler import CompileOptions, compile_graph
from hwgen.errors import HwgenError
from hwgen.frontend import load
from hwgen.ir import Graph, Target
from hwgen.ir.to_onnx import to_onnx
from hwgen.npu.config import RequantMode
from hwgen.npu.words import lanes_word
from hwgen.outdir import atomic_directory
from hwgen.report import report
from hwgen.report_html import render as render_html


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compile", help="generate the network's NPU and report")
    p.add_argument("model", help="quantized ONNX model")
    add_dialect_option(p)
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.add_argument(
        "--array", type=int, help="array size M (2, 4, 8, 16; default 8, or the board's)"
    )
    p.add_argument(
        "--board",
        choices=sorted(BOARDS),
        help="size the NPU for this board (hwgen fpga): its array size unless --array is "
        "given, and its requant unit (one channel every 4 cycles on the iCEBreaker)",
    )
    p.add_argument("--l1", type=int, default=64 * 1024, help="host L1 bytes (default 65536)")
    p.add_argument(
        "--requant",
        choices=[m.value for m in RequantMode],
        help="the NPU's requant rule (default: the network's own)",
    )
    p.add_argument(
        "--place",
        action="append",
        default=[],
        metavar="NODE=host|npu",
        help="force a node onto the host or the NPU (repeatable)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    p.set_defaults(handler=handle)


def parse_place(items: list[str]) -> dict[str, Target]:
    found: dict[str, Target] = {}
    for item in items:
        name, _, where = item.rpartition("=")
        if not name or where not in ("host", "npu"):
            raise HwgenError(f"--place {item!r}: expected NODE=host or NODE=npu")
        found[name] = Target(where)
    return found


def handle(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    board = BOARDS[args.board] if args.board else None
    default_array = board.array if board else CompileOptions.array
    options = CompileOptions(
        array=args.array if args.array is not None else default_array,
        requant_interval=board.requant_interval if board else 1,
        l1=args.l1,
        requant=RequantMode(args.requant) if args.requant else None,
        place=parse_place(args.place),
    )
    graph = load(args.model, dialect_of(args))
    with atomic_directory(args.output, force=args.force) as out:
        (out / "graph").mkdir()
        shutil.copyfile(args.model, out / "model.onnx")  # hwgen sim runs it again

        def dump(index: int, name: str, g: Graph) -> None:
            onnx.save(to_onnx(g), str(out / "graph" / f"{index:02d}_{name}.onnx"))

        with console.status("compiling"):
            comp = compile_graph(graph, options, dump)
        assert comp.npu is not None
        with console.status(f"generating the NPU (M={options.array}) as SystemVerilog"):
            words = [lanes_word(block.reshape(-1)) for block in comp.npu.weight_blocks]
            emit_npu(comp.npu.config, out / "rtl", weight_init=words)
        with console.status("generating the host C"):
            generate_c(comp, out / "sw")
        summary = report(comp)
        (out / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
        (out / "report.html").write_text(render_html(summary))
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
    console.print(f"wrote {Path(args.output)}/rtl/, sw/, graph/, report.json, report.html")
    return 0
