"""The requant unit: an int32 accumulator and its channel's parameters in, one output byte out.

`RequantOrt` reproduces onnxruntime's float32 rule in integer logic, exactly as
sim_models.requant.requant_ort: |acc| rounded to 24 significant bits (f32(acc)), a 25x24-bit
product with the multiplier's mantissa rounded to 24 significant bits (the float32 multiply), a
rounding shift by the combined exponent (round half to even), zero point, clamp.
`RequantShift` is Deeploy's RequantShift: clamp((acc * mul + add) >> shift).
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.arith import StallPipeline, bit_length, shift_right_rne
from hwgen.npu.config import NpuConfig, RequantMode
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


ORT_REQUEST = data.StructLayout({"acc": signed(32), "params": ORT_PARAMS})
SHIFT_REQUEST = data.StructLayout({"acc": signed(32), "params": SHIFT_PARAMS})


def _signature(request: data.StructLayout) -> wiring.Signature:
    return wiring.Signature(
        {"request": In(stream.Signature(request)), "result": Out(stream.Signature(unsigned(8)))}
    )


def _clamp(value: Value, lower: Value, upper: Value) -> Value:
    low = Mux(value < lower, lower, value)
    return Mux(low > upper, upper, low)


class RequantOrt(wiring.Component):
    """Four pipeline stages: round |acc| to 24 bits; multiply; round the product to 24 bits;
    round to an integer, add the zero point, clamp."""

    def __init__(self) -> None:
        super().__init__(_signature(ORT_REQUEST))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pipe = StallPipeline(m, self.request, self.result, stages=4)
        acc = self.request.payload.acc
        params = self.request.payload.params

        # Stage 1: f32(acc) as (negative, ma, s) with value = ma << s.
        magnitude = Signal(33)
        m.d.comb += magnitude.eq(Mux(acc < 0, -acc, acc))
        acc_bits = bit_length(m, magnitude, "acc_bits")
        s = Signal(range(10))
        m.d.comb += s.eq(Mux(acc_bits > 24, acc_bits - 24, 0))
        ma = shift_right_rne(m, magnitude, s, "ma")
        s1_neg = pipe.register(acc < 0, "s1_neg")
        s1_ma = pipe.register(ma[:25], "s1_ma")
        s1_s = pipe.register(s, "s1_s")
        s1_p = pipe.register(params, "s1_params")

        # Stage 2: the exact 49-bit product of the mantissas.
        s2_prod = pipe.register(s1_ma * s1_p.mantissa, "s2_product")
        s2_neg = pipe.register(s1_neg, "s2_neg")
        s2_s = pipe.register(s1_s, "s2_s")
        s2_p = pipe.register(s1_p, "s2_params")

        # Stage 3: the float32 product, rounded to 24 significant bits.
        prod_bits = bit_length(m, s2_prod, "product_bits")
        t = Signal(range(27))
        m.d.comb += t.eq(Mux(prod_bits > 24, prod_bits - 24, 0))
        pm = shift_right_rne(m, s2_prod, t, "pm")
        scale = Signal(signed(10))
        m.d.comb += scale.eq(t + s2_s + s2_p.exponent)
        s3_pm = pipe.register(pm[:25], "s3_pm")
        s3_scale = pipe.register(scale, "s3_scale")
        s3_neg = pipe.register(s2_neg, "s3_neg")
        s3_p = pipe.register(s2_p, "s3_params")

        # Stage 4: round half to even to an integer, saturating; sign, zero point, clamp.
        left = Signal(range(12))
        m.d.comb += left.eq(Mux(s3_scale > 11, 11, s3_scale[:4]))
        grown = Signal(37)
        m.d.comb += grown.eq(s3_pm << left)
        right = Signal(range(32))
        m.d.comb += right.eq(Mux(-s3_scale > 31, 31, (-s3_scale)[:5]))
        shrunk = shift_right_rne(m, s3_pm, right, "shrunk")
        magnitude_int = Signal(range(SATURATE + 1))
        unbounded = Mux(s3_scale >= 0, grown, shrunk)
        m.d.comb += magnitude_int.eq(Mux(unbounded > SATURATE, SATURATE, unbounded))
        value = Signal(signed(12))
        m.d.comb += value.eq(Mux(s3_neg, -magnitude_int, magnitude_int) + s3_p.zero_point)
        out = Signal(BOUND)
        m.d.comb += out.eq(_clamp(value, s3_p.lower, s3_p.upper))
        s4_out = pipe.register(out[:8], "s4_out")
        m.d.comb += self.result.payload.eq(s4_out)
        return m


class RequantShift(wiring.Component):
    """Two pipeline stages: the 64-bit product; add, arithmetic shift, clamp."""

    def __init__(self) -> None:
        super().__init__(_signature(SHIFT_REQUEST))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pipe = StallPipeline(m, self.request, self.result, stages=2)
        payload = self.request.payload
        s1_prod = pipe.register(payload.acc * payload.params.mul, "s1_product")
        s1_p = pipe.register(payload.params, "s1_params")
        total = Signal(signed(66))
        m.d.comb += total.eq(s1_prod + s1_p.add)
        shifted = Signal(signed(66))
        m.d.comb += shifted.eq(total >> s1_p.shift)
        out = Signal(BOUND)
        m.d.comb += out.eq(_clamp(shifted, s1_p.lower, s1_p.upper))
        s2_out = pipe.register(out[:8], "s2_out")
        m.d.comb += self.result.payload.eq(s2_out)
        return m


def requant_unit(config: NpuConfig) -> RequantOrt | RequantShift:
    return RequantOrt() if config.requant is RequantMode.ORT else RequantShift()
