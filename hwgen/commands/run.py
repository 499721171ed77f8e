"""`hwgen run MODEL.onnx --inputs IN.npz --outputs OUT.npz --backend golden`."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from hwgen.backends import golden
from hwgen.frontend import load
from hwgen.npz import load_npz, save_npz

BACKENDS = ("golden",)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run a model on inputs from an .npz, write outputs to an .npz")
    p.add_argument("model", help="quantized ONNX model")
    p.add_argument("--inputs", required=True, help=".npz keyed by the graph's input names")
    p.add_argument("--outputs", required=True, help=".npz to write, keyed by output names")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="golden",
        help="golden: the bit-exact numpy model (default)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    graph = load(args.model)
    inputs = load_npz(args.inputs)
    outputs = golden.run(graph, inputs)
    save_npz(args.outputs, outputs)
    console = Console(highlight=False)
    for name, value in outputs.items():
        console.print(f"{name}: {value.dtype}{list(value.shape)}")
    console.print(f"wrote {args.outputs}")
    return 0
