"""Writing a build (hwgen/build.py): compile a model once and write every part asked for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import onnx

from hwgen.agreement import float_report
from hwgen.boards.fit import check_fit
from hwgen.boards.targets import board as find_board
from hwgen.build import MANIFEST, Build, Part, manifest_for
from hwgen.codegen.c_network import generate_c
from hwgen.codegen.rtl import emit_npu
from hwgen.compiler import Compilation, CompileOptions, compile_model
from hwgen.ir import Graph
from hwgen.ir.serialize import save_graph
from hwgen.ir.to_onnx import to_onnx
from hwgen.outdir import atomic_directory
from hwgen.progress import Status, quiet
from hwgen.report import report
from hwgen.report_html import render as render_html

ALL_PARTS = frozenset(Part)


def write_report(directory: Path, summary: dict[str, Any]) -> None:
    (directory / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    (directory / "report.html").write_text(render_html(summary))


Model = Path | onnx.ModelProto


def write_build(
    model: Model,
    options: CompileOptions,
    directory: Path,
    parts: frozenset[Part] = ALL_PARTS,
    status: Status = quiet,
) -> Compilation:
    """Compile `model` (a file, or a model in memory) into the empty directory `directory`."""
    (directory / "graph").mkdir()
    source = directory / "model.onnx"
    if isinstance(model, onnx.ModelProto):
        onnx.save(model, str(source))

    def dump(index: int, name: str, g: Graph) -> None:
        onnx.save(to_onnx(g), str(directory / "graph" / f"{index:02d}_{name}.onnx"))

    with status("compiling"):
        comp = compile_model(model if isinstance(model, Path) else source, options, dump)
    if isinstance(model, Path):  # read by the frontend: a file that exists
        shutil.copyfile(model, source)
    assert comp.npu is not None
    board_fit = None
    if options.board:
        with status(f"checking the NPU fits the {options.board}"):
            board_fit = check_fit(comp.npu.config, find_board(options.board))
    save_graph(comp.graph, directory / Part.GRAPH.value)
    if Part.RTL in parts:
        with status(f"generating the NPU (M={options.array}) as SystemVerilog"):
            emit_npu(comp.npu.config, directory / Part.RTL.value)
    if Part.SW in parts:
        with status("generating the host C"):
            generate_c(comp, directory / Part.SW.value)
    summary = report(comp)
    with status("comparing with onnxruntime where it computes in float"):
        onnx_model = model if isinstance(model, onnx.ModelProto) else onnx.load(str(source))
        summary["onnxruntime_float"] = float_report(
            onnx_model, options.dialect, options.input_types
        )
    if board_fit is not None:
        summary["board_fit"] = board_fit.as_dict()
    write_report(directory, summary)
    name = model.name if isinstance(model, Path) else source.name
    assert comp.image is not None and comp.memory is not None
    sysmem = comp.image.l2_base + comp.memory.peak
    manifest = manifest_for(comp.graph, name, options, comp.npu.config, set(parts), sysmem)
    (directory / MANIFEST).write_text(json.dumps(manifest.as_dict(), indent=2) + "\n")
    return comp


def compile_build(
    model: Model,
    options: CompileOptions,
    out: Path,
    *,
    force: bool = False,
    parts: frozenset[Part] = ALL_PARTS,
    status: Status = quiet,
) -> tuple[Build, Compilation]:
    """`write_build` into `out`, which appears whole or not at all."""
    with atomic_directory(out, force=force) as staging:
        comp = write_build(model, options, staging, parts, status)
    return Build.open(out), comp
