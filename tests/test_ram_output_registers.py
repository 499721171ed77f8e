"""ECP5 block RAM output registers taken up from yosys's netlist: which flip-flops qualify, what
the block becomes, and a real synthesis of a memory with its word registered."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from amaranth import Module, Signal
from amaranth.back import rtlil
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwgen.boards.flow import UNDEFINED_COLLISIONS
from hwgen.boards.ram_output_registers import fold_output_registers
from hwgen.boards.targets import tool_env

CLK, CE, RST = 2, 3, 4


def ff(d: int, q: int, *, ce: int | None = CE, **params: str) -> dict[str, Any]:
    connections: dict[str, list[int | str]] = {"CLK": [CLK], "DI": [d], "LSR": ["0"], "Q": [q]}
    if ce is not None:
        connections["CE"] = [ce]
    return {
        "type": "TRELLIS_FF",
        "parameters": {
            "CEMUX": "CE" if ce is not None else "1 ",
            "CLKMUX": "CLK",
            "GSR": "ENABLED",
            "LSRMUX": "LSR",
            "REGSET": "RESET",
            **params,
        },
        "port_directions": {
            "CLK": "input",
            "CE": "input",
            "DI": "input",
            "LSR": "input",
            "Q": "output",
        },
        "connections": connections,
    }


def ram(width: int, outputs: dict[str, int]) -> dict[str, Any]:
    pins: dict[str, list[int | str]] = {
        "CLKA": [CLK],
        "CLKB": [CLK],
        "RSTA": ["0"],
        "RSTB": ["0"],
        "OCEA": ["1"],
        "OCEB": ["1"],
    }
    pins.update({pin: [bit] for pin, bit in outputs.items()})
    return {
        "type": "DP16KD",
        "parameters": {
            "DATA_WIDTH_A": format(width, "032b"),
            "DATA_WIDTH_B": format(width, "032b"),
            "REGMODE_A": "NOREG",
            "REGMODE_B": "NOREG",
            "GSR": "ENABLED",
        },
        "port_directions": {pin: "output" if pin.startswith("DO") else "input" for pin in pins},
        "connections": pins,
    }


def netlist(**cells: dict[str, Any]) -> dict[str, Any]:
    return {"modules": {"top": {"ports": {}, "cells": cells, "netnames": {}}}}


def reader(bit: int) -> dict[str, Any]:
    """A LUT that reads `bit`."""
    return {
        "type": "LUT4",
        "parameters": {},
        "port_directions": {"A": "input", "Z": "output"},
        "connections": {"A": [bit], "Z": [99]},
    }


def two_registered_bits() -> dict[str, Any]:
    return netlist(
        ram=ram(18, {"DOB0": 10, "DOB1": 11}),
        r0=ff(10, 20),
        r1=ff(11, 21),
    )


def test_registers_after_a_read_become_its_output_register() -> None:
    design = two_registered_bits()
    assert fold_output_registers(design) == 2
    cells = design["modules"]["top"]["cells"]
    assert set(cells) == {"ram"}
    block = cells["ram"]
    assert block["parameters"]["REGMODE_B"] == "OUTREG"
    assert block["parameters"]["REGMODE_A"] == "NOREG"
    assert block["connections"]["OCEB"] == [CE]
    assert block["connections"]["DOB0"] == [20]
    assert block["connections"]["DOB1"] == [21]


def test_registers_without_an_enable_leave_it_high() -> None:
    design = netlist(ram=ram(9, {"DOA0": 10}), r0=ff(10, 20, ce=None))
    assert fold_output_registers(design) == 1
    block = design["modules"]["top"]["cells"]["ram"]
    assert block["parameters"]["REGMODE_A"] == "OUTREG"
    assert block["connections"]["OCEA"] == ["1"]


def test_a_wide_read_takes_both_ports_registers() -> None:
    design = netlist(ram=ram(36, {"DOA0": 10, "DOB0": 11}), r0=ff(10, 20), r1=ff(11, 21))
    assert fold_output_registers(design) == 2
    block = design["modules"]["top"]["cells"]["ram"]
    assert block["parameters"]["REGMODE_A"] == block["parameters"]["REGMODE_B"] == "OUTREG"
    assert block["connections"]["OCEA"] == block["connections"]["OCEB"] == [CE]


def unchanged(design: dict[str, Any]) -> bool:
    before = copy.deepcopy(design)
    return fold_output_registers(design) == 0 and design == before


@pytest.mark.parametrize(
    "change",
    [
        "reset",
        "set",
        "inverted enable",
        "other clock",
        "inverted clock",
        "two enables",
        "read elsewhere too",
        "not a register",
        "global reset ignored",
        "block reset",
        "register already used",
    ],
)
def test_anything_but_a_plain_register_stays(change: str) -> None:
    design = two_registered_bits()
    cells = design["modules"]["top"]["cells"]
    r0, block = cells["r0"], cells["ram"]
    if change == "reset":
        r0["connections"]["LSR"] = [5]
    elif change == "set":
        r0["parameters"]["REGSET"] = "SET"
    elif change == "inverted enable":
        r0["parameters"]["CEMUX"] = "INV"
    elif change == "other clock":
        r0["connections"]["CLK"] = [6]
    elif change == "inverted clock":
        r0["parameters"]["CLKMUX"] = "INV"
    elif change == "two enables":
        r0["connections"]["CE"] = [7]
    elif change == "read elsewhere too":
        cells["lut"] = reader(10)
    elif change == "global reset ignored":
        r0["parameters"]["GSR"] = "DISABLED"
    elif change == "not a register":
        cells["r0"] = reader(10)
    elif change == "block reset":
        block["connections"]["RSTB"] = [8]
    elif change == "register already used":
        block["parameters"]["REGMODE_B"] = "OUTREG"
    assert unchanged(design)


def test_a_read_that_leaves_the_design_stays() -> None:
    design = two_registered_bits()
    design["modules"]["top"]["ports"]["q"] = {"direction": "output", "bits": [10]}
    assert unchanged(design)


class RegisteredRead(wiring.Component):
    """A memory whose word is registered under an enable, as hwgen's buffers read."""

    def __init__(self) -> None:
        super().__init__({"addr": In(9), "en": In(1), "wr": In(1), "data": In(32), "word": Out(32)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.mem = mem = Memory(shape=32, depth=512, init=[])
        read, write = mem.read_port(), mem.write_port()
        staged = Signal(32, reset_less=True)  # as on a board, whose clock has no reset
        m.d.comb += [
            read.addr.eq(self.addr),
            read.en.eq(self.en),
            write.addr.eq(self.addr),
            write.en.eq(self.wr),
            write.data.eq(self.data),
            self.word.eq(staged),
        ]
        with m.If(self.en):
            m.d.sync += staged.eq(read.data)
        return m


def test_yosys_netlist_of_a_registered_read(tmp_path: Path) -> None:
    """The register after a memory that yosys maps to a DP16KD moves into it, all 32 bits."""
    (tmp_path / "top.il").write_text(rtlil.convert(RegisteredRead(), name="top"))
    script = f"read_rtlil top.il; {UNDEFINED_COLLISIONS}; synth_ecp5 -top top -json top.json"
    yosys = tool_env()["YOSYS"]
    subprocess.run([yosys, "-q", "-p", script], cwd=tmp_path, check=True)
    design = json.loads((tmp_path / "top.json").read_text())
    cells = design["modules"]["top"]["cells"].values()
    blocks = [c for c in cells if c["type"] == "DP16KD"]
    flip_flops = sum(c["type"] == "TRELLIS_FF" for c in cells)
    assert len(blocks) == 1 and flip_flops >= 32
    assert fold_output_registers(design) == 32
    cells = design["modules"]["top"]["cells"].values()
    assert sum(c["type"] == "TRELLIS_FF" for c in cells) == flip_flops - 32
    (block,) = (c for c in cells if c["type"] == "DP16KD")
    assert block["parameters"]["REGMODE_B"] == "OUTREG"
