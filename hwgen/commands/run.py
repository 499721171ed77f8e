"""`hwgen run MODEL.onnx --inputs IN.npz --outputs OUT.npz --backend golden`."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console

from hwgen.backends import golden
from hwgen.backends.c import BitMismatchError, HostProgram
from hwgen.backends.cosim import run_cosim
from hwgen.backends.functional_npu import FunctionalNpu
from hwgen.backends.host import build_network
from hwgen.commands.options import add_dialect_option, dialect_of
from hwgen.compiler import CompileOptions
from hwgen.errors import HwgenError
from hwgen.frontend import load
from hwgen.ir import Graph
from hwgen.npz import load_npz, save_npz

BACKENDS = ("golden", "c", "cosim")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run a model on inputs from an .npz, write outputs to an .npz")
    p.add_argument("model", help="quantized ONNX model")
    add_dialect_option(p)
    p.add_argument("--inputs", required=True, help=".npz keyed by the graph's input names")
    p.add_argument("--outputs", required=True, help=".npz to write, keyed by output names")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="golden",
        help="golden: the bit-exact numpy model (default); c: the generated host C with a "
        "functional NPU; cosim: the same C against the generated RTL under Verilator. The c "
        "and cosim backends check every layer against golden as it is produced",
    )
    p.add_argument("--array", type=int, default=8, help="array size M for c (default 8)")
    p.add_argument("--l1", type=int, default=64 * 1024, help="host L1 bytes for c")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    graph = load(args.model, dialect_of(args))
    inputs = load_npz(args.inputs)
    console = Console(highlight=False)
    options = CompileOptions(array=args.array, l1=args.l1)
    if args.backend == "golden":
        outputs = golden.run(graph, inputs)
    elif args.backend == "c":
        outputs = _run_c(graph, inputs, options, console)
    else:
        golden.check_inputs(graph, inputs)
        with console.status("co-simulating the host C with the NPU RTL (Verilator)"):
            result = run_cosim(Path(args.model), [inputs], options)
        outputs = result.outputs[0]
        console.print(
            f"cosim: every layer equals golden; {result.simulated_cycles:,} cycles "
            f"simulated in {result.run_seconds:.1f} s"
        )
    save_npz(args.outputs, outputs)
    for name, value in outputs.items():
        console.print(f"{name}: {value.dtype}{list(value.shape)}")
    console.print(f"wrote {args.outputs}")
    return 0


def _run_c(
    graph: Graph,
    inputs: dict[str, npt.NDArray[np.generic]],
    options: CompileOptions,
    console: Console,
) -> dict[str, npt.NDArray[np.generic]]:
    golden.check_inputs(graph, inputs)
    with tempfile.TemporaryDirectory(prefix="hwgen-c-") as tmp:
        with console.status("compiling and building the host C"):
            built = build_network(graph, options, Path(tmp))
        assert built.compilation.npu is not None
        program = HostProgram(
            built.library, built.network, built.graph, FunctionalNpu(built.compilation.npu.config)
        )
        try:
            outputs = program.run_checked(inputs)
        except BitMismatchError as exc:
            raise HwgenError(f"c backend differs from golden: {exc.mismatch.describe()}") from None
    console.print(f"c backend: {len(built.network.layers)} layers equal golden, bit for bit")
    return outputs
