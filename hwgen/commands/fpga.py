"""`hwgen fpga OUT --board B`: the compiled network's NPU, behind its UART bridge, as a
bitstream for an iCEBreaker or ULX3S; resources and Fmax go into OUT's report."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from hwgen import extras
from hwgen.boards.flow import build_bitstream
from hwgen.boards.targets import board as find_board
from hwgen.boards.targets import boards
from hwgen.build import Build
from hwgen.builder import write_report
from hwgen.errors import HwgenError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("fpga", help="build a compiled network's NPU into a bitstream")
    p.add_argument("output", help="a directory written by hwgen compile")
    p.add_argument("--board", required=True, choices=sorted(boards()))
    p.add_argument(
        "--freq",
        type=float,
        help="place and route for this clock in MHz (default: the board's oscillator)",
    )
    p.add_argument("--baud", type=int, default=1_000_000, help="the UART bridge's rate")
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="place and route again with up to this many placer seeds while timing is not "
        "met, keeping the best (default: 1)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    build = Build.open(args.output)
    out = build.directory
    if args.freq is not None and args.freq <= 0:
        raise HwgenError(f"--freq {args.freq}: a clock in MHz must be positive")
    if args.seeds < 1:
        raise HwgenError(f"--seeds {args.seeds}: at least one place and route")
    extras.require("fpga", "hwgen fpga")
    summary = build.report()
    board = find_board(args.board)
    board.check_supported()
    config = build.config
    console = Console(highlight=False)
    with console.status("") as status:

        def progress(stage: str) -> None:
            status.update(f"{board.name}: {stage}")

        result = build_bitstream(
            config,
            board,
            out / "fpga" / board.name,
            freq_mhz=args.freq,
            baud=args.baud,
            seeds=args.seeds,
            progress=progress,
        )
    summary.setdefault("fpga", {})[board.name] = result.as_dict()
    write_report(out, summary)
    used = ", ".join(
        f"{name} {r['used']:,}/{r['available']:,}" for name, r in result.resources.items()
    )
    verdict = "met" if result.timing_met else "NOT met"
    console.print(
        f"{board.name} ({board.device}), {config.array}x{config.array} NPU: {used}; "
        f"Fmax {result.fmax_mhz:.1f} MHz, timing {verdict} at {result.constraint_mhz:g} MHz "
        f"(board clock {result.board_clock_mhz:g} MHz); {result.seconds:.0f} s"
    )
    if len(result.fmax_by_attempt) > 1:
        tried = ", ".join(f"{f:.1f}" for f in result.fmax_by_attempt)
        kept = "nextpnr's own" if result.seed is None else str(result.seed)
        console.print(f"placer seeds tried: {tried} MHz; kept seed {kept}")
    if result.late_registers:
        late = ", ".join(
            f"{r['register']} ({r['endpoints']} bits, {r['worst_arrival_ns']:.2f} ns)"
            for r in result.late_registers[:5]
        )
        console.print(f"latest registers: {late}; all in fpga.json")
    console.print(f"bitstream: {out / 'fpga' / board.name / result.bitstream}")
    return 0 if result.board_timing_met else 1
