"""`hwgen run MODEL.onnx --inputs IN.npz --outputs OUT.npz --backend golden`."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console

from hwgen.backends import golden
from hwgen.backends.c import BitMismatchError, HostProgram, NpuPort
from hwgen.backends.cosim import run_cosim
from hwgen.backends.functional_npu import FunctionalNpu
from hwgen.backends.host import build_network
from hwgen.commands.options import add_dialect_option, dialect_of
from hwgen.compiler import CompileOptions
from hwgen.errors import HwgenError
from hwgen.frontend import load
from hwgen.ir import Graph
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.csr import Reg
from hwgen.npz import load_npz, save_npz

BACKENDS = ("golden", "c", "cosim", "board")


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
        "and cosim backends check every layer against golden as it is produced; board: the "
        "same C driving a board built by hwgen fpga, over --port",
    )
    p.add_argument("--array", type=int, default=8, help="array size M for c (default 8)")
    p.add_argument("--l1", type=int, default=64 * 1024, help="host L1 bytes for c")
    p.add_argument("--port", help="board: serial port or pyserial URL of the board's UART")
    p.add_argument("--baud", type=int, default=1_000_000, help="board: the bridge's rate")
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
    elif args.backend == "board":
        if not args.port:
            raise HwgenError("--backend board needs --port (the board's serial port)")
        outputs = _run_board(graph, inputs, options, args.port, args.baud, console)
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
    def functional(config: NpuConfig) -> Iterator[NpuPort]:
        yield FunctionalNpu(config)

    return _run_host_c(graph, inputs, options, console, "c backend", functional)


def _run_board(
    graph: Graph,
    inputs: dict[str, npt.NDArray[np.generic]],
    options: CompileOptions,
    port: str,
    baud: int,
    console: Console,
) -> dict[str, npt.NDArray[np.generic]]:
    from hwgen.boards.client import BridgeClient, BridgeError
    from hwgen.boards.serial_line import SerialTransport

    def board(config: NpuConfig) -> Iterator[NpuPort]:
        line = SerialTransport(port, baud)
        try:
            with console.status(f"talking to the board on {port}"):
                client = BridgeClient(line)
                check_board(client.read32(Reg.HW_CONFIG), config)
            yield client
            console.print(f"{client.resent} requests to the board sent again")
        except BridgeError as exc:
            raise HwgenError(
                f"board on {port}: {exc.reason} (is the bitstream from hwgen fpga loaded, and "
                f"its bridge at {baud} baud?)"
            ) from None
        finally:
            line.close()

    return _run_host_c(graph, inputs, options, console, "board", board)


def _run_host_c(
    graph: Graph,
    inputs: dict[str, npt.NDArray[np.generic]],
    options: CompileOptions,
    console: Console,
    label: str,
    npu: Callable[[NpuConfig], Iterator[NpuPort]],
) -> dict[str, npt.NDArray[np.generic]]:
    """The generated host C, every layer checked against golden, with its NPU calls going to
    the port that `npu` yields for the compiled configuration."""
    golden.check_inputs(graph, inputs)
    with tempfile.TemporaryDirectory(prefix="hwgen-c-") as tmp:
        with console.status("compiling and building the host C"):
            built = build_network(graph, options, Path(tmp))
        assert built.compilation.npu is not None
        with contextmanager(npu)(built.compilation.npu.config) as port:
            program = HostProgram(built.library, built.network, built.graph, port)
            try:
                with console.status(f"running ({label})"):
                    outputs = program.run_checked(inputs)
            except BitMismatchError as exc:
                raise HwgenError(
                    f"{label} differs from golden: {exc.mismatch.describe()}"
                ) from None
    console.print(f"{label}: {len(built.network.layers)} layers equal golden, bit for bit")
    return outputs


def check_board(hw_config: int, config: NpuConfig) -> None:
    """The bitstream on the board must be the NPU this network was compiled for."""
    array, shift = hw_config & 0xFF, bool(hw_config >> 8 & 1)
    want_shift = config.requant is RequantMode.SHIFT
    if (array, shift) != (config.array, want_shift):
        mode = "shift" if shift else "ort"
        raise HwgenError(
            f"the board's NPU is {array}x{array} with {mode} requant, this network needs "
            f"{config.array}x{config.array} with {config.requant.value}: build its bitstream "
            "with hwgen compile --array and hwgen fpga"
        )
