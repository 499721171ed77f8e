"""The requant unit: an int32 accumulator and its channel's parameters in, one output byte out.

`RequantOrt` reproduces onnxruntime's float32 rule in integer logic, exactly as
sim_models.requant.requant_ort: |acc| rounded to 24 significant bits (f32(acc)), a 25x24-bit
product with the multiplier's mantissa rounded to 24 significant bits (the float32 multiply), a
rounding shift by the combined exponent (round half to even), zero point, clamp.
`RequantShift` is Deeploy's RequantShift: clamp((acc * mul + add) >> shift).
"""

from __future__ import annotations

import itertools

from amaranth import Cat, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.arith import StallPipeline, bit_length, rne_parts
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.dsp import is_ecp5, mult18x18d
from sim_models.requant import SATURATE

# Output values and bounds lie in [-128, 255] (int8 or uint8 after the zero point).
BOUND = signed(10)

ORT_PARAMS = data.StructLayout(
    {
        "mantissa": unsigned(24),
        "exponent": signed(9),
        "zero_point": BOUND,
        "lower": BOUND,
        "upper": BOUND,
    }
)

SHIFT_PARAMS = data.StructLayout(
    {
        "mul": signed(32),
        "add": signed(48),
        "shift": unsigned(6),
        "lower": BOUND,
        "upper": BOUND,
    }
)


# The parameters the last stages of RequantOrt still need.
OUT_PARAMS = data.StructLayout({"zero_point": BOUND, "lower": BOUND, "upper": BOUND})

SPLIT = 17  # bits of the unsigned low part of a split multiplier operand

ORT_REQUEST = data.StructLayout({"acc": signed(32), "params": ORT_PARAMS})
SHIFT_REQUEST = data.StructLayout({"acc": signed(32), "params": SHIFT_PARAMS})


def _signature(request: data.StructLayout) -> wiring.Signature:
    return wiring.Signature(
        {"request": In(stream.Signature(request)), "result": Out(stream.Signature(unsigned(8)))}
    )


def _clamp(value: Value, lower: Value, upper: Value) -> Value:
    """min(max(value, lower), upper), with both comparisons side by side."""
    return Mux((value > upper) | (lower > upper), upper, Mux(value < lower, lower, value))


def split_operand(value: Value) -> tuple[Value, Value]:
    """A wide operand as an unsigned 17-bit low part and the (signed, if it is) rest: every
    partial product then fits a signed 18x18 multiplier (ECP5's MULT18X18D)."""
    high = value[SPLIT:].as_signed() if value.shape().signed else value[SPLIT:]
    return value[:SPLIT], high


class SplitProduct:
    """A wide product over four pipeline stages: the operands registered; partial products;
    the two outer ones side by side and the two cross ones summed; the total. On an ECP5 the
    first two are the registers inside the MULT18X18D blocks (hwgen.npu.dsp)."""

    STAGES = 4

    def __init__(
        self, pipe: StallPipeline, a: Value, b: Value, name: str, platform: object
    ) -> None:
        tags = ("ll", "lh", "hl", "hh")  # lo*lo, lo*hi, hi*lo, hi*hi
        if is_ecp5(platform):
            pairs = itertools.product(split_operand(a), split_operand(b))
            products = []
            for (x, y), tag in zip(pairs, tags, strict=True):
                out = mult18x18d(pipe.m, x, y, pipe.advance, f"{name}_{tag}")
                exact = Signal.like(x * y, name=f"{name}_{tag}")
                pipe.m.d.comb += exact.eq(out[: len(exact)])
                products.append(exact)
        else:
            a_parts = [pipe.register(x, f"{name}_a{k}") for k, x in enumerate(split_operand(a))]
            b_parts = [pipe.register(y, f"{name}_b{k}") for k, y in enumerate(split_operand(b))]
            pairs = itertools.product(a_parts, b_parts)
            products = [
                pipe.register(x * y, f"{name}_{tag}")
                for (x, y), tag in zip(pairs, tags, strict=True)
            ]
        lo_lo, lo_hi, hi_lo, hi_hi = products
        # lo*lo < 2^34, so placing hi*hi above it is its sum: no adder.
        outer = pipe.register(
            Cat(lo_lo, hi_hi).as_signed() if hi_hi.shape().signed else Cat(lo_lo, hi_hi),
            f"{name}_outer",
        )
        cross = pipe.register(lo_hi + hi_lo, f"{name}_cross")
        self.product = pipe.register(outer + (cross << SPLIT), f"{name}_product")


class RequantOrt(wiring.Component):
    """Sixteen pipeline stages, none with more than one wide operation: f32(acc) as
    significant bits, rounding shift and round-up add; the mantissa product (SplitProduct);
    the float32 product as significant bits, rounding shift and round-up add; the final
    rounding shift, its round-up add, saturation; sign and zero point; clamp."""

    STAGES = 16

    def __init__(self) -> None:
        super().__init__(_signature(ORT_REQUEST))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pipe = StallPipeline(m, self.request, self.result, stages=self.STAGES)
        acc = self.request.payload.acc
        params = self.request.payload.params
        reg = pipe.register

        # 1: sign and magnitude.
        magnitude = Signal(33)
        m.d.comb += magnitude.eq(Mux(acc < 0, -acc, acc))
        neg = reg(acc < 0, "s1_neg")
        mag = reg(magnitude, "s1_mag")
        p = reg(params, "s1_params")

        # 2-4: f32(acc) = ma << s, with ma |acc| rounded to 24 significant bits.
        s = reg(bit_length(m, mag, "acc_excess", less=24), "s2_s")
        mag, neg, p = reg(mag, "s2_mag"), reg(neg, "s2_neg"), reg(p, "s2_params")
        q, up = rne_parts(m, mag, s, "ma")
        q, up, s = reg(q[:25], "s3_q"), reg(up, "s3_up"), reg(s, "s3_s")
        neg, p = reg(neg, "s3_neg"), reg(p, "s3_params")
        ma = Signal(25)
        m.d.comb += ma.eq(q + up)
        ma, s, neg, p = reg(ma, "s4_ma"), reg(s, "s4_s"), reg(neg, "s4_neg"), reg(p, "s4_params")

        # 5-8: the exact 49-bit product of the mantissas.
        product = SplitProduct(pipe, ma, p.mantissa, "mant", platform).product
        late = data.StructLayout(
            {"s": s.shape(), "neg": 1, "exponent": signed(9), "out": OUT_PARAMS}
        )
        carried = Signal(late)
        m.d.comb += [
            carried.s.eq(s),
            carried.neg.eq(neg),
            carried.exponent.eq(p.exponent),
            carried.out.zero_point.eq(p.zero_point),
            carried.out.lower.eq(p.lower),
            carried.out.upper.eq(p.upper),
        ]
        for stage in range(5, 5 + SplitProduct.STAGES):
            carried = reg(carried, f"s{stage}_carried")
        prod = Signal(49)
        m.d.comb += prod.eq(product)

        # 9-11: the float32 product: rounded to 24 significant bits, pm << scale.
        t = reg(bit_length(m, prod, "product_excess", less=24), "s9_t")
        prod, carried = reg(prod, "s9_prod"), reg(carried, "s9_carried")
        scale = Signal(signed(11))
        m.d.comb += scale.eq(t + carried.s + carried.exponent)
        q, up = rne_parts(m, prod, t, "pm")
        q, up, scale = reg(q[:25], "s10_q"), reg(up, "s10_up"), reg(scale, "s10_scale")
        neg, out = reg(carried.neg, "s10_neg"), reg(carried.out, "s10_out_params")
        pm = Signal(25)
        m.d.comb += pm.eq(q + up)
        # The shift amounts, beside the add: shifting left by more than 11 saturates anyway,
        # and shifting right by more than 26 (len(pm) + 1) rounds to 0 like 26 does.
        left = Signal(range(12))
        m.d.comb += left.eq(Mux(scale > 11, 11, scale[:4]))
        right = Signal(range(27))  # for scale >= 0 it is not used
        m.d.comb += right.eq(Mux(scale < -26, 26, (-scale)[:5]))
        pm, left, right = reg(pm, "s11_pm"), reg(left, "s11_left"), reg(right, "s11_right")
        positive = reg(scale >= 0, "s11_positive")
        neg, out = reg(neg, "s11_neg"), reg(out, "s11_out_params")

        # 12-14: round half to even to an integer, saturating.
        q, up = rne_parts(m, pm, right, "shrunk", limit=len(pm) + 1)
        grown = reg(pm << left, "s12_grown")
        q, up = reg(q, "s12_q"), reg(up, "s12_up")
        positive = reg(positive, "s12_positive")
        neg, out = reg(neg, "s12_neg"), reg(out, "s12_out_params")
        shrunk = Signal(len(q) + 1)
        m.d.comb += shrunk.eq(q + up)
        unbounded = reg(Mux(positive, grown, shrunk), "s13_unbounded")
        neg, out = reg(neg, "s13_neg"), reg(out, "s13_out_params")
        magnitude_int = Signal(range(SATURATE + 1))
        m.d.comb += magnitude_int.eq(Mux(unbounded > SATURATE, SATURATE, unbounded))
        magnitude_int = reg(magnitude_int, "s14_magnitude")
        neg, out = reg(neg, "s14_neg"), reg(out, "s14_out_params")

        # 15: sign and zero point, one adder.
        value = Signal(signed(12))
        m.d.comb += value.eq(
            Mux(neg, out.zero_point - magnitude_int, out.zero_point + magnitude_int)
        )
        value, out = reg(value, "s15_value"), reg(out, "s15_out_params")

        # 16: clamp.
        result = Signal(BOUND)
        m.d.comb += result.eq(_clamp(value, out.lower, out.upper))
        m.d.comb += self.result.payload.eq(reg(result[:8], "s16_out"))
        return m


class RequantShift(wiring.Component):
    """Seven pipeline stages: the 64-bit product (SplitProduct); the offset added; the
    arithmetic shift; the clamp."""

    STAGES = SplitProduct.STAGES + 3

    def __init__(self) -> None:
        super().__init__(_signature(SHIFT_REQUEST))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pipe = StallPipeline(m, self.request, self.result, stages=self.STAGES)
        payload = self.request.payload
        product = SplitProduct(pipe, payload.acc, payload.params.mul, "prod", platform).product
        p = payload.params
        for stage in range(1, SplitProduct.STAGES + 1):
            p = pipe.register(p, f"s{stage}_params")
        total = pipe.register(product + p.add, "s5_total")
        p = pipe.register(p, "s5_params")
        shifted = Signal(signed(66))
        m.d.comb += shifted.eq(total >> p.shift)
        shifted = pipe.register(shifted, "s6_shifted")
        p = pipe.register(p, "s6_params")
        out = Signal(BOUND)
        m.d.comb += out.eq(_clamp(shifted, p.lower, p.upper))
        m.d.comb += self.result.payload.eq(pipe.register(out[:8], "s7_out"))
        return m


def requant_unit(config: NpuConfig) -> RequantOrt | RequantShift:
    return RequantOrt() if config.requant is RequantMode.ORT else RequantShift()
