"""Which lowering handles which ONNX op."""

from __future__ import annotations

from collections.abc import Callable

from hwgen.frontend.context import LoweringContext

Lowering = Callable[[LoweringContext], None]

_LOWERINGS: dict[tuple[str, str], Lowering] = {}

MS_DOMAIN = "com.microsoft"
# Ops of hwgen's own rewrites (a QDQ group onnxruntime runs in float, folded to one node).
HWGEN_DOMAIN = "hwgen"


def lowers(op_type: str, domain: str = "") -> Callable[[Lowering], Lowering]:
    def register(fn: Lowering) -> Lowering:
        _LOWERINGS[(domain, op_type)] = fn
        return fn

    return register


def lowering_for(domain: str, op_type: str) -> Lowering | None:
    return _LOWERINGS.get(("" if domain == "ai.onnx" else domain, op_type))
