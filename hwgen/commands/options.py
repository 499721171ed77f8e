"""Options several commands share."""

from __future__ import annotations

import argparse

from hwgen.frontend import Dialect


def add_dialect_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dialect",
        choices=[d.value for d in Dialect],
        help="the graph's dialect (default: detected from its ops)",
    )


def dialect_of(args: argparse.Namespace) -> Dialect | None:
    return Dialect(args.dialect) if args.dialect else None
