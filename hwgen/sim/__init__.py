"""Simulation of the generated RTL under Verilator with cocotb (hwgen[sim])."""
