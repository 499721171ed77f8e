"""The testbenches' runners: shared with the co-simulation backend."""

from hwgen.sim.runner import BUILD, ROOT, run_cocotb, run_cocotb_sources

__all__ = ["BUILD", "ROOT", "run_cocotb", "run_cocotb_sources"]
