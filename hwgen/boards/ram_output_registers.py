"""ECP5 block RAM output registers, taken up in the netlist that yosys gives nextpnr.

An ECP5 DP16KD read without its output register (REGMODE "NOREG", the only mode yosys's memory
mapping knows) gives its word 5.83 ns after the clock edge; through its output register
("OUTREG") the word comes a cycle later, 0.96 ns after the edge. hwgen registers the word of
every block RAM read on a long route (system memory's banks, the activations, the output
buffer). But nextpnr does not place that flip-flop beside its block: with most of the blocks in
use, a buffer's blocks spread over the device, and the block's slow output and the route to the
register shared one cycle (up to 12.7 ns on the ULX3S).

Here such a flip-flop becomes the block's output register: where every bit a read port gives
goes to a flip-flop and nowhere else, and those flip-flops share the port's clock and one
enable, have no reset, start at zero, and take the global reset as the block does, the port's
register mode becomes OUTREG with that enable, the block drives the flip-flops' outputs, and
the flip-flops go. The register is the same one (clock, enable, value at configuration and on
the global reset), so the design's cycles do not change.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Bit = int | str  # a net's number, or a constant ("0", "1", "x", "z") in yosys's JSON
WIDE = 36  # a read this wide (the pseudo dual-port mode) gives its word on both ports' outputs


@dataclass(frozen=True)
class ReadGroup:
    """The outputs a block's read port gives, and the parameters and pins that govern them."""

    outputs: tuple[str, ...]  # "DOA", "DOB": the output buses
    ports: tuple[str, ...]  # "A", "B": whose REGMODE, OCE and RST govern the register
    clock: str  # the pin of the read's clock


def read_groups(cell: dict[str, Any]) -> list[ReadGroup]:
    """A DP16KD's read ports: one reading 36 bits on B through both output buses, or each port
    through its own."""
    if _number(cell["parameters"].get("DATA_WIDTH_B", 18)) == WIDE:
        return [ReadGroup(("DOA", "DOB"), ("A", "B"), "CLKB")]
    return [ReadGroup((f"DO{p}",), (p,), f"CLK{p}") for p in ("A", "B")]


def fold_output_registers(netlist: dict[str, Any]) -> int:
    """Move each qualifying flip-flop after a DP16KD's read into the block (the module docstring
    says which qualify), in every module of a yosys JSON netlist; the flip-flops moved."""
    return sum(_fold_module(module) for module in netlist["modules"].values())


def fold_file(path: Path) -> int:
    """fold_output_registers on a yosys JSON file, rewritten in place."""
    netlist = json.loads(path.read_text())
    moved = fold_output_registers(netlist)
    if moved:
        path.write_text(json.dumps(netlist))
    return moved


def _fold_module(module: dict[str, Any]) -> int:
    cells: dict[str, dict[str, Any]] = module.get("cells", {})
    sinks: dict[Bit, list[tuple[str, str]]] = defaultdict(list)
    for name, cell in cells.items():
        directions = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            if directions.get(port) != "output":
                for bit in bits:
                    sinks[bit].append((name, port))
    for port in module.get("ports", {}).values():
        if port["direction"] != "input":
            for bit in port["bits"]:
                sinks[bit].append(("", "module port"))
    moved = 0
    for cell in [c for c in cells.values() if c["type"] == "DP16KD"]:
        for group in read_groups(cell):
            found = _output_registers(cell, group, cells, sinks)
            if found:
                registers, enable = found
                _take_up(cell, group, registers, enable, cells)
                moved += len(registers)
    return moved


def _output_registers(
    cell: dict[str, Any],
    group: ReadGroup,
    cells: dict[str, dict[str, Any]],
    sinks: dict[Bit, list[tuple[str, str]]],
) -> tuple[dict[str, str], tuple[Bit, ...]] | None:
    """The flip-flops that follow the group's read, by output pin, and their one enable, if
    they can be its output register; else None."""
    params, pins = cell["parameters"], cell["connections"]
    for p in group.ports:
        if params.get(f"REGMODE_{p}", "NOREG") != "NOREG" or pins.get(f"RST{p}", ["0"]) != ["0"]:
            return None
    if params.get(f"{group.clock}MUX", group.clock) != group.clock:
        return None
    clock = pins[group.clock]
    registers: dict[str, str] = {}
    enables: set[tuple[Bit, ...]] = set()
    for pin, bits in pins.items():
        if not pin.startswith(group.outputs):
            continue
        (bit,) = bits
        readers = sinks.get(bit, [])
        if not readers:
            continue
        if len(readers) != 1:
            return None
        name, port = readers[0]
        ff = cells.get(name)
        if ff is None or ff["type"] != "TRELLIS_FF" or port != "DI":
            return None
        enable = _plain_register_enable(ff, clock, params.get("GSR", "ENABLED"))
        if enable is None:
            return None
        enables.add(enable)
        registers[pin] = name
    if len(enables) != 1:
        return None
    return registers, enables.pop()


def _plain_register_enable(
    ff: dict[str, Any], clock: list[Bit], gsr: str
) -> tuple[Bit, ...] | None:
    """A TRELLIS_FF's enable, as a pin's connection ("1" if it has none), when it is a plain
    register on `clock`: never reset, zero at configuration and on the global reset if it
    takes it as the block does (`gsr`), its clock not inverted; else None."""
    params, pins = ff["parameters"], ff["connections"]
    plain = (
        pins.get("CLK") == clock
        and params.get("CLKMUX", "CLK") == "CLK"
        and pins.get("LSR", ["0"]) == ["0"]
        and params.get("GSR", "ENABLED") == gsr
        and params.get("REGSET", "RESET") == "RESET"
    )
    if not plain:
        return None
    mux = params.get("CEMUX", "1").strip()
    if mux == "1":
        return ("1",)
    if mux == "CE":
        return tuple(pins["CE"])
    return None  # an inverted enable


def _take_up(
    cell: dict[str, Any],
    group: ReadGroup,
    registers: dict[str, str],
    enable: tuple[Bit, ...],
    cells: dict[str, dict[str, Any]],
) -> None:
    pins = cell["connections"]
    for p in group.ports:
        cell["parameters"][f"REGMODE_{p}"] = "OUTREG"
        pins[f"OCE{p}"] = list(enable)
    for pin, name in registers.items():
        pins[pin] = list(cells[name]["connections"]["Q"])
        del cells[name]


def _number(value: Any) -> int:
    """A yosys JSON integer parameter: a binary string, or an int."""
    return int(value, 2) if isinstance(value, str) else int(value)
