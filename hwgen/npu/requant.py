"""The requant unit: an int32 accumulator and its channel's parameters in, one output byte out.

`RequantOrt` reproduces onnxruntime's float32 rule in integer logic, exactly as
sim_models.requant.requant_ort: |acc| rounded to 24 significant bits (f32(acc)), a 25x24-bit
product with the multiplier's mantissa rounded to 24 significant bits (the float32 multiply), a
rounding shift by the combined exponent (round half to even), zero point, clamp.
`RequantShift` is Deeploy's RequantShift: clamp((acc * mul + add) >> shift).
"""

from __future__ import annotations

import itertools

from amaranth import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from hwgen.npu.arith import StallPipeline, carry_save_sum, leading_zeros, round_up
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.device import is_ecp5
from hwgen.npu.dsp import mult18x18d
from hwgen.sim_models.requant import SATURATE

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


def _radix4_terms(a: Value, triple: Value, digits: Value) -> list[Value]:
    """a * digits (unsigned) as one term per two bits of digits, term k to be shifted left by
    2k: a multiplexer picks 0, a, 2a or 3a (`triple`, registered). Half the terms of a bit at
    a time, and no term needs more than one logic cell per bit."""
    terms: list[Value] = []
    for k in range(0, len(digits), 2):
        low = digits[k]
        if k + 1 < len(digits):
            high = digits[k + 1]
            term = Mux(high, Mux(low, triple, a << 1), Mux(low, a, 0))
        else:
            term = Mux(low, a, 0)
        terms.append(term)
    return terms


class SerialProduct:
    """A wide product over R + 3 pipeline stages from one multiplier of a by len(b) / R bits
    of b: for a pipeline that takes a request every R advances (StallPipeline's interval),
    where one partial product per stage is all the throughput needs and a full multiplier in
    logic would not fit (an iCE40's DSP blocks all go to the array).

    The first stage registers the operands (and 3a, for the radix-4 terms); the next R each
    register one digit's terms (digit j of b, low first, the top one signed if b is, times a:
    a multiplexer per bit, whose flip-flop shares its logic cell); the R after the first of
    those sum them into a partial product (carry-save, then one carry chain); the R after the
    first of those add it to the running sum shifted right by a digit, the bits shifted out
    final and collected below it. So no stage has more than one carry chain, with at most one
    logic level in front of it, and the loop through the running sum has one."""

    STAGES_BEYOND_INTERVAL = 3

    def __init__(self, pipe: StallPipeline, a: Value, b: Value, name: str, first: int) -> None:
        """`a` and `b` as stage `first - 1` holds them; the product is stage
        `first + R + 2`'s."""
        m, steps = pipe.m, pipe.interval
        digit = -(-len(b) // steps)
        width = len(a) + digit + 1  # one partial product plus the sum shifted down
        is_signed = a.shape().signed or b.shape().signed
        x = pipe.keep(a, first, f"{name}_a")
        # No resets, as for the pipeline's own registers (StallPipeline.register). `y` is b,
        # its digits shifted out low first; `done` the final bits, newest at the top.
        y = Signal(digit * steps, name=f"{name}_b", reset_less=True)
        partial = Signal(
            signed(width) if is_signed else width, name=f"{name}_partial", reset_less=True
        )
        running = Signal.like(partial, name=f"{name}_running", reset_less=True)
        done = Signal(digit * (steps - 1), name=f"{name}_low", reset_less=True)

        digits = y[:digit]
        if b.shape().signed:
            # The top digit is the only signed one: its sign extends it, the others get a 0.
            sign = digits[-1] & pipe.entering(first + steps)
            terms: list[Value] = [x * Cat(digits, sign).as_signed()]
            shifts = [0]
        else:
            triple = pipe.keep(a + (a << 1), first, f"{name}_triple")
            terms = _radix4_terms(x, triple, digits)
            shifts = list(range(0, len(digits), 2))
        kept = [
            Signal.like(term, name=f"{name}_term{k}", reset_less=True)
            for k, term in enumerate(terms)
        ]
        shape = partial.shape()
        partial_sum = carry_save_sum(
            m, [t << s for t, s in zip(kept, shifts, strict=True)], shape, f"{name}_sum"
        )

        with m.If(pipe.advance):
            for step in range(steps):
                with m.If(pipe.entering(first + 1 + step)):
                    m.d.sync += [k.eq(t) for k, t in zip(kept, terms, strict=True)]
                    m.d.sync += y.eq(y >> digit)
                with m.If(pipe.entering(first + 2 + step)):
                    m.d.sync += partial.eq(partial_sum)
            # After the shifts: the next request may enter as the last digit's terms are
            # taken, and its b replaces the spent one.
            with m.If(pipe.entering(first)):
                extended = b.as_signed() if b.shape().signed else b
                m.d.sync += y.eq(extended)
            with m.If(pipe.entering(first + 3)):
                m.d.sync += running.eq(partial)
            for step in range(1, steps):
                with m.If(pipe.entering(first + 3 + step)):
                    m.d.sync += [
                        running.eq((running >> digit) + partial),
                        done.eq(Cat(done[digit:], running[:digit])),
                    ]
        product_width = len(a) + len(b)
        self.product = Signal(
            signed(product_width) if is_signed else product_width, name=f"{name}_product"
        )
        m.d.comb += self.product.eq(Cat(done, running))


def product_stages(interval: int) -> int:
    """Pipeline stages of the wide product: SplitProduct's, or SerialProduct's R + 3."""
    return SplitProduct.STAGES if interval == 1 else interval + SerialProduct.STAGES_BEYOND_INTERVAL


def ort_stages(interval: int) -> int:
    return 11 + product_stages(interval)


def shift_stages(interval: int) -> int:
    return product_stages(interval) + 3


# The final rounding's right shifts that matter for a mantissa in [2^23, 2^24]: below
# NEAR_SHIFT even 2^23 is still SATURATE or more (saturated).
NEAR_SHIFT = 24 - (SATURATE.bit_length() - 1)
FAR_SHIFT = 25  # a mantissa of at most 2^24 shifted right by 25 or more rounds to 0


class RequantOrt(wiring.Component):
    """Fifteen pipeline stages (14 + R at an interval of R > 1), none with more than one wide
    operation. Every rounding to 24 significant bits happens at a fixed bit position:

    - |acc| is shifted left until its leading one is bit 31, and f32(acc) is its top 24 bits
      rounded: ma * 2^ea with ma in [2^23, 2^24) (0 for 0).
    - The multiplier's mantissa has its leading one at bit 23 too (split_float32 normalizes
      subnormals), so the product lies in [2^46, 2^48): the float32 product keeps bits 24
      and up, or 23 and up, rounded: pm in [2^23, 2^24].
    - pm * 2^scale is then at least 2^10 (saturated) for scale > -NEAR_SHIFT, and rounds to 0
      for scale <= -FAR_SHIFT; between them the final rounding shift spans 11 positions and
      keeps 11 bits, not a 25-bit shifter by 0 to 26.

    `interval`: the advances between requests it takes. At 1 it takes one every cycle; at
    R > 1 its product is a multiplier R times narrower and what rides along is registered
    every R stages (StallPipeline.hold)."""

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval
        self.stages = ort_stages(interval)
        super().__init__(_signature(ORT_REQUEST))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pipe = StallPipeline(m, self.request, self.result, self.stages, self.interval)
        acc = self.request.payload.acc
        reg, hold = pipe.register, pipe.hold

        # 1: sign and magnitude (|-2^31| still fits 32 unsigned bits).
        magnitude = Signal(32)
        m.d.comb += magnitude.eq(Mux(acc < 0, -acc, acc))
        mag = hold(magnitude, 1, "s1_mag")
        neg = hold(acc < 0, 1, "s1_neg")
        p = hold(self.request.payload.params, 1, "s1_params")

        # 2 and 3: how far the leading one is from bit 31, counted in bytes (2), then whole (3).
        n = reg(leading_zeros(m, mag, "acc_zeros", cut=reg), "s3_n")
        mag, neg, p = hold(mag, 2, "s2_mag"), hold(neg, 2, "s2_neg"), hold(p, 2, "s2_params")
        mag, neg, p = hold(mag, 3, "s3_mag"), hold(neg, 3, "s3_neg"), hold(p, 3, "s3_params")

        # 4: normalized; the top 24 bits kept, rounded at bit 8.
        normal = Signal(32)
        m.d.comb += normal.eq(mag << n)
        kept = normal[8:]
        up = round_up(kept, normal[7], normal[:7].any())
        kept, up, n = reg(kept, "s4_kept"), reg(up, "s4_up"), reg(n, "s4_n")
        neg, p = hold(neg, 4, "s4_neg"), hold(p, 4, "s4_params")

        # 5: f32(acc) = ma * 2^ea. A round-up out of 24 bits leaves 2^24: 2^23, one up.
        rounded = Signal(25)
        m.d.comb += rounded.eq(kept + up)
        carry = rounded[24]
        exponent = Signal(signed(6))  # in [-24, 9]
        m.d.comb += exponent.eq(8 + carry - n)
        ma = reg(rounded[:24] | (carry << 23), "s5_ma")
        # Held, not just registered: at an interval R > 1 the stages after the product read it
        # (`carried`), and only a stage 1 + kR keeps a value for R advances.
        ea = hold(exponent, 5, "s5_ea")
        neg, p = hold(neg, 5, "s5_neg"), hold(p, 5, "s5_params")

        # The exact 48-bit product of the mantissas, in stages 6 to `last`.
        if self.interval == 1:
            product = SplitProduct(pipe, ma, p.mantissa, "mant", platform).product
        else:
            product = SerialProduct(pipe, ma, p.mantissa, "mant", first=6).product
        last = 5 + product_stages(self.interval)
        late = data.StructLayout(
            {"ea": ea.shape(), "neg": 1, "exponent": signed(9), "out": OUT_PARAMS}
        )
        carried = Signal(late)
        m.d.comb += [
            carried.ea.eq(ea),
            carried.neg.eq(neg),
            carried.exponent.eq(p.exponent),
            carried.out.zero_point.eq(p.zero_point),
            carried.out.lower.eq(p.lower),
            carried.out.upper.eq(p.upper),
        ]
        for stage in range(6, last + 1):
            carried = hold(carried, stage, f"s{stage}_carried")
        prod = Signal(48)
        m.d.comb += prod.eq(product)

        # The float32 product: 24 bits from bit 24 (or 23, if bit 47 is clear), rounded.
        stage = last + 1
        top = prod[47]
        kept = Mux(top, prod[24:48], prod[23:47])
        up = round_up(kept, Mux(top, prod[23], prod[22]), prod[:22].any() | (top & prod[22]))
        scale = Signal(signed(10))
        m.d.comb += scale.eq(23 + top + carried.ea + carried.exponent)
        kept, up, scale = (
            reg(kept, f"s{stage}_kept"),
            reg(up, f"s{stage}_up"),
            reg(scale, f"s{stage}_scale"),
        )
        neg, out = (
            hold(carried.neg, stage, f"s{stage}_neg"),
            hold(carried.out, stage, f"s{stage}_out"),
        )

        # pm, and where the final rounding shift falls in its window.
        stage += 1
        pm = Signal(25)
        m.d.comb += pm.eq(kept + up)
        window = Signal(range(FAR_SHIFT - NEAR_SHIFT + 1))  # not used when saturated
        m.d.comb += window.eq(
            Mux(scale <= -FAR_SHIFT, FAR_SHIFT - NEAR_SHIFT, (-NEAR_SHIFT - scale)[:4])
        )
        pm, window = reg(pm, f"s{stage}_pm"), reg(window, f"s{stage}_window")
        saturated = reg(scale > -NEAR_SHIFT, f"s{stage}_saturated")
        neg, out = hold(neg, stage, f"s{stage}_neg"), hold(out, stage, f"s{stage}_out")

        # Round half to even to an integer: pm >> (NEAR_SHIFT + window).
        stage += 1
        quotient = Signal(len(pm) - NEAR_SHIFT)
        m.d.comb += quotient.eq(pm[NEAR_SHIFT:] >> window)
        guard = (pm[NEAR_SHIFT - 1 :] >> window)[0]
        below_guard = Cat(
            Const((1 << (NEAR_SHIFT - 1)) - 1, NEAR_SHIFT - 1),
            Cat(Const(i) < window for i in range(len(pm) - NEAR_SHIFT)),
        )
        up = round_up(quotient, guard, (pm & below_guard).any())
        quotient, up = reg(quotient, f"s{stage}_quotient"), reg(up, f"s{stage}_up")
        saturated = reg(saturated & (pm != 0), f"s{stage}_saturated")
        neg, out = hold(neg, stage, f"s{stage}_neg"), hold(out, stage, f"s{stage}_out")

        stage += 1
        magnitude_int = Signal(range(SATURATE + 1))
        m.d.comb += magnitude_int.eq(Mux(saturated, SATURATE, quotient + up))
        magnitude_int = reg(magnitude_int, f"s{stage}_magnitude")
        neg, out = hold(neg, stage, f"s{stage}_neg"), hold(out, stage, f"s{stage}_out")

        # Sign and zero point, one adder.
        value = Signal(signed(12))
        m.d.comb += value.eq(
            Mux(neg, out.zero_point - magnitude_int, out.zero_point + magnitude_int)
        )
        stage += 1
        value, out = reg(value, f"s{stage}_value"), hold(out, stage, f"s{stage}_out")

        # Clamp.
        result = Signal(BOUND)
        m.d.comb += result.eq(_clamp(value, out.lower, out.upper))
        stage += 1
        assert stage == self.stages
        m.d.comb += self.result.payload.eq(reg(result[:8], f"s{stage}_out"))
        return m


class RequantShift(wiring.Component):
    """Seven pipeline stages (6 + R at an interval of R > 1): the 64-bit product
    (SplitProduct, or SerialProduct over R + 3 stages); the offset added; the arithmetic shift;
    the clamp. `interval` as for RequantOrt."""

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval
        self.stages = shift_stages(interval)
        super().__init__(_signature(SHIFT_REQUEST))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pipe = StallPipeline(m, self.request, self.result, self.stages, self.interval)
        payload = self.request.payload
        if self.interval == 1:
            product = SplitProduct(pipe, payload.acc, payload.params.mul, "prod", platform).product
        else:
            product = SerialProduct(pipe, payload.acc, payload.params.mul, "prod", first=1).product
        last = product_stages(self.interval)
        p = payload.params
        for stage in range(1, last + 1):
            p = pipe.hold(p, stage, f"s{stage}_params")
        total = pipe.register(product + p.add, f"s{last + 1}_total")
        p = pipe.hold(p, last + 1, f"s{last + 1}_params")
        shifted = Signal(signed(66))
        m.d.comb += shifted.eq(total >> p.shift)
        shifted = pipe.register(shifted, f"s{last + 2}_shifted")
        p = pipe.hold(p, last + 2, f"s{last + 2}_params")
        out = Signal(BOUND)
        m.d.comb += out.eq(_clamp(shifted, p.lower, p.upper))
        m.d.comb += self.result.payload.eq(pipe.register(out[:8], f"s{last + 3}_out"))
        return m


def requant_unit(config: NpuConfig) -> RequantOrt | RequantShift:
    if config.requant is RequantMode.ORT:
        return RequantOrt(config.requant_interval)
    return RequantShift(config.requant_interval)
