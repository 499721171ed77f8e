"""One lane of the multiplier array: signed products accumulated into an int32 sum."""

from __future__ import annotations

from amaranth import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out


class MacLane(wiring.Component):
    """Accumulates a*w over a stream of operand pairs; the pair marked `last` closes a sum,
    which leaves on `result`. The accumulator wraps like int32 arithmetic.

    Operands are accepted whenever no result is waiting or the waiting one leaves this cycle,
    so a result costs no bubble unless the consumer stalls.
    """

    def __init__(self, operand_width: int = 8, acc_width: int = 32) -> None:
        if acc_width < 2 * operand_width:
            raise ValueError(f"acc_width {acc_width} cannot hold a {operand_width}-bit product")
        self.operand_width = operand_width
        self.acc_width = acc_width
        operands = data.StructLayout(
            {"a": signed(operand_width), "w": signed(operand_width), "last": 1}
        )
        super().__init__(
            {
                "operands": In(stream.Signature(operands)),
                "result": Out(stream.Signature(signed(acc_width))),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        acc = Signal(signed(self.acc_width))
        total = Signal(signed(self.acc_width))
        op = self.operands.payload
        m.d.comb += [
            total.eq(acc + op.a * op.w),
            self.operands.ready.eq(~self.result.valid | self.result.ready),
        ]
        with m.If(self.result.valid & self.result.ready):
            m.d.sync += self.result.valid.eq(0)
        with m.If(self.operands.valid & self.operands.ready):
            with m.If(op.last):
                m.d.sync += [acc.eq(0), self.result.payload.eq(total), self.result.valid.eq(1)]
            with m.Else():
                m.d.sync += acc.eq(total)
        return m
