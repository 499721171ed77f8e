"""`hwgen check MODEL.onnx`: what each ONNX node becomes, or why it cannot."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from hwgen.commands.options import add_dialect_option, dialect_of
from hwgen.frontend import Lowering, Status, lower_model, read_model


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="list what each node of a model becomes, and why not")
    p.add_argument("model", help="quantized ONNX model")
    add_dialect_option(p)
    p.set_defaults(handler=handle)


def report_table(lowering: Lowering) -> Table:
    table = Table(title=f"{lowering.graph.name}: {len(lowering.reports)} ONNX nodes")
    for column in ("ONNX node", "op", "integer op", "note"):
        table.add_column(column, overflow="fold")
    for r in lowering.reports:
        if r.status is Status.UNSUPPORTED:
            table.add_row(r.name, r.op_type, "[red]unsupported[/]", r.reason)
        elif r.status is Status.FOLDED and r.ir_op is None:
            table.add_row(r.name, r.op_type, "-", r.reason)
        else:
            op = r.ir_op.value if r.ir_op is not None else "-"
            note = f"folded into '{r.into}'" if r.status is Status.FOLDED else ""
            table.add_row(r.name, r.op_type, op, note)
    return table


def handle(args: argparse.Namespace) -> int:
    lowering = lower_model(read_model(args.model), dialect_of(args))
    out = Console(highlight=False)
    out.print(report_table(lowering))
    unsupported = [r for r in lowering.reports if r.status is Status.UNSUPPORTED]
    if unsupported:
        out.print(
            f"[red]{len(unsupported)} node(s) unsupported[/]; the first: "
            f"{lowering.errors[0].message}"
        )
        return 1
    out.print(
        f"[green]all nodes supported[/]: {len(lowering.graph.nodes)} integer ops "
        f"({lowering.dialect.value} dialect)"
    )
    return 0
