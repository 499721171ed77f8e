"""`hwgen run MODEL.onnx|BUILD --inputs IN.npz --outputs OUT.npz --backend golden|c|cosim|board`.

A model is compiled once, into a temporary build that the backend runs; a build directory
(from hwgen compile) is run as it is."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from hwgen import extras
from hwgen.backends import NAMES, make_backend
from hwgen.build import MANIFEST, Build, Part
from hwgen.builder import compile_build
from hwgen.commands.options import add_compile_options, compile_options, given_compile_options
from hwgen.errors import HwgenError
from hwgen.npz import load_npz, save_npz

# What each backend runs of a build: the compiled graph always, then the C, then the RTL.
PARTS = {
    "golden": frozenset({Part.GRAPH}),
    "c": frozenset({Part.GRAPH, Part.SW}),
    "cosim": frozenset(Part),
    "board": frozenset({Part.GRAPH, Part.SW}),
}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run a model or a build on inputs from an .npz")
    p.add_argument("model", help="quantized ONNX model, or a directory written by hwgen compile")
    p.add_argument("--inputs", required=True, help=".npz keyed by the graph's input names")
    p.add_argument("--outputs", required=True, help=".npz to write, keyed by output names")
    p.add_argument(
        "--backend",
        choices=NAMES,
        default="golden",
        help="golden: the bit-exact numpy model (default); c: the generated host C with a "
        "functional NPU; cosim: the same C against the generated RTL under Verilator; board: "
        "the same C driving a board built by hwgen fpga, over --port. All but golden check "
        "every layer against golden as it is produced",
    )
    add_compile_options(p)
    p.add_argument("--port", help="board: serial port or pyserial URL of the board's UART")
    p.add_argument("--baud", type=int, default=1_000_000, help="board: the bridge's rate")
    p.set_defaults(handler=handle)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    if args.backend != "board":
        return {}
    if not args.port:
        raise HwgenError("--backend board needs --port (the board's serial port)")
    return {"port": args.port, "baud": args.baud}


def handle(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    backend = make_backend(args.backend, **_settings(args))
    if backend.extra is not None:
        extras.require(backend.extra, f"the {backend.name} backend")
    inputs = load_npz(args.inputs)
    source = Path(args.model)
    if (source / MANIFEST).is_file():
        given = given_compile_options(args)
        if given:
            raise HwgenError(
                f"{', '.join(given)}: '{source}' is a build, already compiled with its own "
                "options; give these to hwgen compile, or run the model instead"
            )
        result = backend.run(Build.open(source), [inputs], console.status)
    else:
        options = compile_options(args)
        with tempfile.TemporaryDirectory(prefix="hwgen-run-") as tmp:
            build, _ = compile_build(
                source,
                options,
                Path(tmp) / "build",
                parts=PARTS[args.backend],
                status=console.status,
            )
            result = backend.run(build, [inputs], console.status)
    outputs = result.outputs[0]
    save_npz(args.outputs, outputs)
    if args.backend != "golden":
        line = f"{args.backend}: every layer equals golden, bit for bit"
        if result.simulated_cycles is not None:
            line += f"; {result.simulated_cycles:,} cycles simulated in {result.seconds:.1f} s"
        console.print(line)
    for name, value in outputs.items():
        console.print(f"{name}: {value.dtype}{list(value.shape)}")
    console.print(f"wrote {args.outputs}")
    return 0
