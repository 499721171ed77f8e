"""DSP blocks by instantiation, where inference would leave their registers unused.

A DSP block sits apart from the logic. Used without its own registers (as yosys infers an ECP5
MULT18X18D), the route into it, its multiplier and the route out of it share one cycle: at
M = 8 on an ECP5 that alone held the clock under 90 MHz. Instantiated with its input and output
registers, each of the three gets a cycle of its own.
"""

from __future__ import annotations

from amaranth import ClockSignal, Const, Instance, Module, Signal, Value

# ECP5 devices as amaranth names them: LFE5U-25F, LFE5UM5G-85F, ...
ECP5_DEVICE_PREFIX = "LFE5"
MULT18_WIDTH = 18


def is_ecp5(platform: object) -> bool:
    return str(getattr(platform, "device", "")).startswith(ECP5_DEVICE_PREFIX)


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
