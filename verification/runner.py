"""The testbenches' runners: shared with the co-simulation backend."""

from hwgen.sim.runner import ROOT, build_dir, run_cocotb, run_cocotb_sources

__all__ = ["ROOT", "build_dir", "run_cocotb", "run_cocotb_sources"]
