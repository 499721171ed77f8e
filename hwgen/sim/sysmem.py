"""The co-simulation's system memory, from the testbench's side: the simulator process exports
the DPI memory's symbols (rtl_templates/sysmem_dpi.cpp, linked with -rdynamic), and this
attaches a buffer of this process to it, in place, and asks where the NPU strayed."""

from __future__ import annotations

import ctypes

# What the simulator's build needs for these symbols to be found from Python.
BUILD_ARGS = ["-LDFLAGS", "-rdynamic"]
NO_FAULT = (1 << 64) - 1


def _simulator() -> ctypes.CDLL:
    return ctypes.CDLL(None)  # the simulator executable itself, Python runs inside it


def attach(address: int, size: int) -> None:
    """From now on the NPU's system memory is the `size` bytes at `address`."""
    attach_fn = _simulator().hwgen_sysmem_attach
    attach_fn.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    attach_fn.restype = None
    attach_fn(address, size)


def fault() -> int | None:
    """The first byte address the NPU read or wrote outside the attached buffer, if any."""
    fault_fn = _simulator().hwgen_sysmem_fault
    fault_fn.restype = ctypes.c_uint64
    value = int(fault_fn())
    return None if value == NO_FAULT else value
