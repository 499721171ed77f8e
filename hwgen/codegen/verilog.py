"""SystemVerilog from an Amaranth component: Amaranth's RTLIL through yosys `write_verilog -sv`."""

from __future__ import annotations

from amaranth.back import rtlil
from amaranth.lib import wiring

# Amaranth 0.5 needs yosys >= 0.40; the builtin-yosys extra brings one.
_YOSYS_MIN = (0, 40)


def emit_systemverilog(component: wiring.Component, name: str, platform: object = None) -> str:
    """`platform`: what elaboration sees (its `device` chooses DSP primitives); by default
    none, as for simulation."""
    from amaranth._toolchain.yosys import find_yosys

    text = rtlil.convert(component, name=name, platform=platform, emit_src=False)
    yosys = find_yosys(lambda version: version >= _YOSYS_MIN)
    script = "\n".join(
        [
            f"read_rtlil <<rtlil\n{text}\nrtlil",
            "proc -nomux -norom",
            "memory_collect",
            "attrmap -remove generator -remove top -remove src",
            "attrmap -modattr -remove generator -remove top -remove src",
            "write_verilog -norename -sv",
        ]
    )
    # yosys warns that not every process maps to Verilog; Amaranth emits only those that do.
    return str(yosys.run(["-q", "-"], script, ignore_warnings=True))
