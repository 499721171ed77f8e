"""DSP blocks by instantiation, where inference would leave their registers unused (ECP5) or
spend a whole block per small product (iCE40); which device has which is hwgen.npu.device's.

A DSP block sits apart from the logic. Used without its own registers (as yosys infers an ECP5
MULT18X18D), the route into it, its multiplier and the route out of it share one cycle: at
M = 8 on an ECP5 that alone held the clock under 90 MHz. Instantiated with its input and output
registers, each of the three gets a cycle of its own.
"""

from __future__ import annotations

from amaranth import Cat, ClockSignal, Const, Instance, Module, Signal, Value, signed

MULT18_WIDTH = 18
MAC16_TIED_LOW = [
    *("AHOLD", "BHOLD", "CHOLD", "DHOLD", "IRSTTOP", "IRSTBOT", "ORSTTOP", "ORSTBOT"),
    *("OLOADTOP", "OLOADBOT", "ADDSUBTOP", "ADDSUBBOT", "OHOLDTOP", "OHOLDBOT"),
    *("CI", "ACCUMCI", "SIGNEXTIN"),
]


def _as_18_signed(value: Value) -> Value:
    """An operand as 18 signed bits (an unsigned one zero-extended), so both inputs of every
    block are signed and any mix of signed and unsigned operands multiplies exactly."""
    limit = MULT18_WIDTH if value.shape().signed else MULT18_WIDTH - 1
    if len(value) > limit:
        raise ValueError(f"a {value.shape()} operand does not fit a MULT18X18D")
    return value.as_signed() if value.shape().signed else value.as_unsigned()


def mult18x18d(m: Module, a: Value, b: Value, en: Value, name: str) -> Signal:
    """a * b in an ECP5 MULT18X18D registered at its inputs and its output (two cycles, both
    under `en`): the 36-bit product."""
    a18 = Signal(MULT18_WIDTH, name=f"{name}_a")
    b18 = Signal(MULT18_WIDTH, name=f"{name}_b")
    m.d.comb += [a18.eq(_as_18_signed(a)), b18.eq(_as_18_signed(b))]
    out = Signal(2 * MULT18_WIDTH, name=f"{name}_p")
    # Ports tied off as yosys ties them when it infers the cell. The cascade inputs
    # (SRIA/SRIB) and the unused clocks stay unconnected: tying them to a constant asks the
    # router for a path that does not exist.
    ports: dict[str, Value] = {"i_CLK0": ClockSignal(), "i_CE0": en}
    for k in range(MULT18_WIDTH):
        ports[f"i_A{k}"] = a18[k]
        ports[f"i_B{k}"] = b18[k]
        ports[f"i_C{k}"] = Const(0, 1)
    for k in range(2 * MULT18_WIDTH):
        ports[f"o_P{k}"] = out[k]
    for port in ("RST0", "SOURCEA", "SOURCEB"):
        ports[f"i_{port}"] = Const(0, 1)
    m.submodules[name] = Instance(
        "MULT18X18D",
        p_REG_INPUTA_CLK="CLK0",
        p_REG_INPUTA_CE="CE0",
        p_REG_INPUTB_CLK="CLK0",
        p_REG_INPUTB_CE="CE0",
        p_REG_OUTPUT_CLK="CLK0",
        p_REG_OUTPUT_CE="CE0",
        p_GSR="DISABLED",
        p_RESETMODE="SYNC",
        i_SIGNEDA=Const(1, 1),
        i_SIGNEDB=Const(1, 1),
        **ports,
    )
    return out


def sb_mac16_dual8x8(
    m: Module,
    top: tuple[Value, Value],
    bottom: tuple[Value, Value],
    en: Value,
    name: str,
) -> tuple[Signal, Signal]:
    """Two signed 8x8 products in one iCE40 SB_MAC16 in its dual 8x8 mode (A[15:8] * B[15:8]
    on O[31:16], A[7:0] * B[7:0] on O[15:0]), registered at its inputs and its outputs (two
    cycles, both under `en`). There are too few blocks for one per product, and yosys would
    spend a whole block on each."""
    out = Signal(32, name=f"{name}_o")
    zero = Const(0, 16)
    m.submodules[name] = Instance(
        "SB_MAC16",
        p_MODE_8x8=1,
        p_A_REG=1,
        p_B_REG=1,
        p_A_SIGNED=1,
        p_B_SIGNED=1,
        p_TOP_8x8_MULT_REG=1,
        p_BOT_8x8_MULT_REG=1,
        p_TOPOUTPUT_SELECT=2,
        p_BOTOUTPUT_SELECT=2,
        i_CLK=ClockSignal(),
        i_CE=en,
        i_A=Cat(bottom[0], top[0]),
        i_B=Cat(bottom[1], top[1]),
        i_C=zero,
        i_D=zero,
        **{f"i_{port}": Const(0, 1) for port in MAC16_TIED_LOW},
        o_O=out,
    )
    top_product = Signal(signed(16), name=f"{name}_top")
    bottom_product = Signal(signed(16), name=f"{name}_bottom")
    m.d.comb += [top_product.eq(out[16:].as_signed()), bottom_product.eq(out[:16].as_signed())]
    return top_product, bottom_product
