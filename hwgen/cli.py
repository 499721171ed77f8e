"""The `hwgen` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from rich.console import Console

from hwgen import __version__
from hwgen.commands import check, compile, demo, fpga, run, sim
from hwgen.errors import HwgenError


class _Parser(argparse.ArgumentParser):
    """A usage mistake is reported as every other error: one line, exit status 1."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hwgen",
        description="Compile a quantized ONNX network into a network-specific NPU and its host C.",
    )
    parser.add_argument("--version", action="version", version=f"hwgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check.add_parser(sub)
    compile.add_parser(sub)
    run.add_parser(sub)
    sim.add_parser(sub)
    fpga.add_parser(sub)
    demo.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    err = Console(stderr=True, highlight=False)
    try:
        return int(args.handler(args))
    except HwgenError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", markup=True, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
