"""Emission: SystemVerilog from Amaranth (and, later, the host C)."""
