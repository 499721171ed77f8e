"""Options several commands share: the compile options (hwgen compile, hwgen run) and the
dialect (hwgen check too)."""

from __future__ import annotations

import argparse
from typing import Any

from hwgen.boards.targets import board as find_board
from hwgen.boards.targets import boards
from hwgen.compiler import DEFAULT_ARRAY, DEFAULT_BUDGET, DEFAULT_L1, CompileOptions
from hwgen.errors import HwgenError
from hwgen.frontend import Dialect
from hwgen.ir import Target
from hwgen.ir.types import DType
from hwgen.npu.config import RequantMode

# Every compile option defaults to None here, so that a command can tell which were given.
COMPILE_OPTIONS = (
    "array",
    "board",
    "act_kib",
    "weight_kib",
    "out_kib",
    "param_kib",
    "commands",
    "bus",
    "requant_lanes",
    "l1",
    "requant",
    "place",
    "dialect",
    "input_type",
)


def add_dialect_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dialect",
        choices=[d.value for d in Dialect],
        help="the graph's dialect (default: detected from its ops)",
    )

    parser.add_argument(
        "--input-type",
        action="append",
        metavar="INPUT=uint8",
        help="an integer graph's input holds uint8, int32 (wider values: Deeploy's int16) or "
        "int8 (the default) values: its float container does not say (repeatable)",
    )


def dialect_of(args: argparse.Namespace) -> Dialect | None:
    return Dialect(args.dialect) if args.dialect else None


INPUT_TYPES = {t.value: t for t in (DType.INT8, DType.UINT8, DType.INT32)}


def input_types_of(args: argparse.Namespace) -> dict[str, DType]:
    types: dict[str, DType] = {}
    for given in getattr(args, "input_type", None) or []:
        name, _, kind = given.rpartition("=")
        if not name or kind not in INPUT_TYPES:
            raise HwgenError(
                f"--input-type {given}: expected INPUT=TYPE with TYPE one of "
                f"{', '.join(INPUT_TYPES)}"
            )
        types[name] = INPUT_TYPES[kind]
    return types


def add_compile_options(parser: argparse.ArgumentParser) -> None:
    add_dialect_option(parser)
    parser.add_argument(
        "--array",
        type=int,
        help=f"array size M (2, 4, 8, 16; default {DEFAULT_ARRAY}, or the board's)",
    )
    parser.add_argument(
        "--board",
        choices=sorted(boards()),
        help="size the NPU for this board (hwgen fpga): its array, buffers, command memory "
        "and bus (each unless given here too), and its requant unit",
    )
    budget = parser.add_argument_group(
        "the NPU's budget",
        "the local buffers in KiB, both banks together (default: "
        f"{DEFAULT_BUDGET.describe()}); a buffer no layer could fill is made smaller",
    )
    budget.add_argument("--act-kib", type=float, help="activation buffer")
    budget.add_argument("--weight-kib", type=float, help="weight buffer")
    budget.add_argument("--out-kib", type=float, help="output buffer")
    budget.add_argument("--param-kib", type=float, help="parameter buffer (bias and requant)")
    budget.add_argument("--commands", type=int, help="commands one NPU program holds")
    budget.add_argument("--bus", type=int, help="bits of the DMA's AXI4 data bus (16, 32, 64)")
    budget.add_argument(
        "--requant-lanes",
        type=int,
        help="channels the requant unit takes per cycle (1, 2, 4): more keep up with layers "
        "of few input channels, at a requant unit's multipliers each",
    )
    parser.add_argument("--l1", type=int, help=f"host L1 bytes (default {DEFAULT_L1})")
    parser.add_argument(
        "--requant",
        choices=[m.value for m in RequantMode],
        help="the NPU's requant rule (default: the network's own)",
    )
    parser.add_argument(
        "--place",
        action="append",
        metavar="NODE=host|npu",
        help="force a node onto the host or the NPU (repeatable)",
    )


def parse_place(items: list[str]) -> dict[str, Target]:
    found: dict[str, Target] = {}
    for item in items:
        name, _, where = item.rpartition("=")
        if not name or where not in ("host", "npu"):
            raise HwgenError(f"--place {item!r}: expected NODE=host or NODE=npu")
        found[name] = Target(where)
    return found


def given_compile_options(args: argparse.Namespace) -> list[str]:
    return [
        "--" + name.replace("_", "-")
        for name in COMPILE_OPTIONS
        if getattr(args, name, None) is not None
    ]


def compile_options(
    args: argparse.Namespace, *, array: int = DEFAULT_ARRAY, l1: int = DEFAULT_L1
) -> CompileOptions:
    """The options given, over the board's (with --board) and then the defaults."""
    board = find_board(args.board) if args.board else None
    if board:
        board.check_supported()
    budget = board.npu if board else DEFAULT_BUDGET
    m = args.array if args.array is not None else (budget.array if board else array)

    def pick(given: object, default: object) -> Any:
        return given if given is not None else default

    # An M = 2 array's vectors are two bytes: its bus is 16 bits unless told otherwise.
    bus = pick(args.bus, budget.data_width if board else min(budget.data_width, 8 * m))
    return CompileOptions(
        array=m,
        act_kib=pick(args.act_kib, budget.act_kib),
        weight_kib=pick(args.weight_kib, budget.weight_kib),
        out_kib=pick(args.out_kib, budget.out_kib),
        param_kib=pick(args.param_kib, budget.param_kib),
        commands=pick(args.commands, budget.commands),
        data_width=bus,
        l1=args.l1 if args.l1 is not None else l1,
        requant=RequantMode(args.requant) if args.requant else None,
        requant_interval=budget.requant_interval,
        requant_lanes=pick(args.requant_lanes, budget.requant_lanes),
        serial_setup=budget.serial_setup,
        place=parse_place(args.place or []),
        dialect=dialect_of(args),
        input_types=input_types_of(args),
        board=board.name if board else None,
    )
