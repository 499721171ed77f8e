"""Simulation of the generated RTL under Verilator with cocotb (needs the dev extra)."""
