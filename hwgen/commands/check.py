"""`hwgen check MODEL.onnx`: what the model's nodes become, or why they cannot.

By default a summary: for a model hwgen takes, its integer ops; for one it does not, each root
cause once (op, how many nodes, why, the first of them) and how many nodes follow from them.
`--verbose` adds a row for every ONNX node; a small model gets those rows anyway."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from hwgen.commands.options import add_dialect_option, dialect_of, input_types_of
from hwgen.frontend import Lowering, NodeReport, Status, lower_model, read_model

# Models up to this many ONNX nodes get the per-node table without --verbose.
SMALL_MODEL = 60
# Root causes listed by default; the rest are counted.
MOST_CAUSES = 8


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="what the nodes of a model become, and why not")
    p.add_argument("model", help="quantized ONNX model")
    add_dialect_option(p)
    p.add_argument("-v", "--verbose", action="store_true", help="a row for every ONNX node")
    p.set_defaults(handler=handle)


def node_table(lowering: Lowering) -> Table:
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


@dataclass(frozen=True)
class Cause:
    op_type: str
    reason: str
    nodes: int
    first: str


def root_causes(reports: list[NodeReport]) -> list[Cause]:
    """Each distinct (op, reason) among the nodes refused for a reason of their own, most
    frequent first, with its first node in graph order."""
    roots = [r for r in reports if r.status is Status.UNSUPPORTED and not r.downstream]
    counts = Counter((r.op_type, r.reason) for r in roots)
    first: dict[tuple[str, str], str] = {}
    for r in roots:
        first.setdefault((r.op_type, r.reason), r.name)
    return [
        Cause(op, reason, count, first[(op, reason)])
        for (op, reason), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def cause_table(causes: list[Cause]) -> Table:
    table = Table(title="root causes", title_justify="left")
    for column in ("op", "nodes", "why", "first node"):
        table.add_column(column, overflow="fold", justify="right" if column == "nodes" else "left")
    for cause in causes[:MOST_CAUSES]:
        table.add_row(cause.op_type, f"{cause.nodes:,}", cause.reason, cause.first)
    return table


def op_summary(lowering: Lowering) -> str:
    ops = Counter(node.op.value for node in lowering.graph.nodes)
    return ", ".join(f"{op} {count}" for op, count in sorted(ops.items(), key=lambda kv: -kv[1]))


def handle(args: argparse.Namespace) -> int:
    lowering = lower_model(read_model(args.model), dialect_of(args), input_types_of(args))
    out = Console(highlight=False)
    reports = lowering.reports
    if args.verbose or len(reports) <= SMALL_MODEL:
        out.print(node_table(lowering))
    unsupported = [r for r in reports if r.status is Status.UNSUPPORTED]
    if not unsupported:
        out.print(
            f"[green]all nodes supported[/]: {len(reports):,} ONNX nodes, "
            f"{len(lowering.graph.nodes):,} integer ops ({lowering.dialect.value} dialect): "
            f"{op_summary(lowering)}"
        )
        return 0
    causes = root_causes(reports)
    roots = sum(c.nodes for c in causes)
    out.print(
        f"[red]{len(unsupported):,} of {len(reports):,} nodes unsupported[/] "
        f"({lowering.dialect.value} dialect): {roots:,} for reasons of their own"
    )
    out.print(cause_table(causes))
    more = len(causes) - MOST_CAUSES
    follow = len(unsupported) - roots
    notes = []
    if more > 0:
        notes.append(f"{more} more root causes")
    if follow:
        notes.append(f"{follow:,} nodes refused only because an input comes from one of these")
    if not args.verbose:
        notes.append("--verbose lists every node")
    out.print("; ".join(notes))
    return 1
