"""`hwgen demo`: the bundled example CNN, quantized by onnxruntime, run on the golden model and
checked bit for bit against onnxruntime."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from rich.console import Console
from rich.progress import Progress

from examples import networks
from examples.quantize import Format, quantize
from hwgen.backends import golden
from hwgen.frontend import lower_or_raise
from hwgen.ir.analysis import total_macs
from hwgen.npz import save_npz
from hwgen.oracle import onnxruntime_outputs
from hwgen.outdir import atomic_directory


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the bundled example CNN end to end and check it")
    p.add_argument(
        "-o",
        "--output",
        default="hwgen-demo",
        help="directory for the example's model and data (default: hwgen-demo)",
    )
    p.add_argument("--inputs", type=int, default=20, help="random inputs to check (default: 20)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    if args.inputs < 1:
        console.print("[red]error:[/] --inputs must be at least 1")
        return 1
    with console.status("building the example CNN and quantizing it with onnxruntime"):
        model = quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, per_channel=True)
        graph = lower_or_raise(model)
    ops = Counter(node.op.value for node in graph.nodes)
    macs = total_macs(graph)
    console.print(
        f"example CNN: {len(model.graph.node)} ONNX nodes -> {len(graph.nodes)} integer "
        f"ops ({', '.join(f'{n} {op}' for op, n in ops.most_common())}); {macs:,} MACs"
    )

    rng = np.random.default_rng(0)
    batches = [
        rng.uniform(-1.5, 1.5, size=networks.CNN_INPUT).astype(np.float32)
        for _ in range(args.inputs)
    ]
    mismatches = compared = 0
    outputs: list[dict[str, np.ndarray]] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("golden vs onnxruntime", total=len(batches))
        for x in batches:
            got = golden.run(graph, {"input": x})
            want = onnxruntime_outputs(model, {"input": x})
            for name in graph.outputs:
                same = got[name].view(np.uint32) == want[name].view(np.uint32)
                mismatches += int((~same).sum())
                compared += same.size
            outputs.append(got)
            progress.advance(task)

    with atomic_directory(args.output, force=True) as staging:
        onnx.save(model, str(staging / "model.onnx"))
        save_npz(staging / "inputs.npz", {"input": batches[0]})
        save_npz(staging / "outputs.npz", outputs[0])
    out = Path(args.output)
    if mismatches:
        console.print(
            f"[bold red]MISMATCH[/]: {mismatches} of {compared} output elements differ "
            "from onnxruntime"
        )
        return 1
    console.print(
        f"[bold green]bit-exact[/]: golden == onnxruntime on all {compared} output "
        f"elements of {len(batches)} random inputs"
    )
    console.print(
        f"wrote {out}/model.onnx, inputs.npz, outputs.npz; try:\n"
        f"  hwgen check {out}/model.onnx\n"
        f"  hwgen run {out}/model.onnx --inputs {out}/inputs.npz --outputs out.npz"
    )
    return 0
