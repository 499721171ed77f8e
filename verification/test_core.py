"""The compute core under Verilator: M in {2, 4, 8}, both requant modes, one to four requant
lanes or a lane every 2 or 4 cycles, both command setups."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.core import Core
from hwgen.sim.runner import run_cocotb, run_cocotb_sources
from verification.dsp_models import mult18x18d_model, yosys_ice40_model
from verification.npu_env import encode

# Memories small enough for quick builds, large enough for every random command.
SMALL_MEMORIES = {
    "act_depth": 256,
    "weight_depth": 64,
    "param_depth": 32,
    "out_depth": 128,
}


@pytest.mark.parametrize(
    ("m", "mode", "interval", "lanes", "serial"),
    [
        (2, RequantMode.ORT, 1, 1, True),
        (2, RequantMode.SHIFT, 1, 2, False),
        (4, RequantMode.ORT, 1, 2, False),
        (4, RequantMode.SHIFT, 1, 4, False),
        (8, RequantMode.ORT, 1, 2, False),
        (8, RequantMode.SHIFT, 1, 1, True),
        # A requant unit that takes a channel every 2 or 4 cycles (an iCE40's).
        (4, RequantMode.ORT, 4, 1, True),
        (2, RequantMode.SHIFT, 2, 1, False),
    ],
    ids=lambda v: v.value if isinstance(v, RequantMode) else str(v),
)
def test_core(m: int, mode: RequantMode, interval: int, lanes: int, serial: bool) -> None:
    config = NpuConfig(
        array=m,
        data_width=min(32, 8 * m),
        requant=mode,
        requant_interval=interval,
        requant_lanes=lanes,
        serial_setup=serial,
        **SMALL_MEMORIES,
    )
    setup = "serial" if serial else "mult"
    run_cocotb(
        lambda: Core(config),
        toplevel="core",
        test_module="verification.core_tb",
        params=f"m{m}-{mode.value}-r{interval}-l{lanes}-{setup}",
        extra_env=encode(config),
    )


def test_core_as_elaborated_for_the_icebreaker() -> None:
    """The iCEBreaker's core (M = 4, a channel every 4 cycles): products in SB_MAC16 blocks,
    simulated with yosys's model of the cell, through the same random commands, outputs and
    cycle counts."""
    from hwgen.boards.targets import board as find_board
    from hwgen.codegen.verilog import emit_systemverilog

    board = find_board("icebreaker")
    config = NpuConfig(
        array=board.array,
        requant_interval=board.npu.requant_interval,
        requant_lanes=board.npu.requant_lanes,
        serial_setup=board.npu.serial_setup,
        **SMALL_MEMORIES,
    )
    device = SimpleNamespace(device=board.device)

    def emit(directory: Path) -> list[Path]:
        models = directory / "ice40_cells.v"
        models.write_text(yosys_ice40_model("SB_MAC16"))
        top = directory / "core.sv"
        top.write_text(emit_systemverilog(Core(config), "core", device))
        assert "SB_MAC16" in top.read_text()
        return [models, top]

    run_cocotb_sources(emit, "core", "verification.core_tb", "icebreaker", encode(config))


def test_core_as_elaborated_for_an_ecp5() -> None:
    """The ULX3S-25F's core (M = 4, two requant lanes, command setup by multiplier): the
    array's, the requant lanes' and command setup's products in MULT18X18D blocks with their
    own registers, simulated with a model of the cell, through the same random commands,
    outputs and cycle counts."""
    from hwgen.boards.targets import board as find_board
    from hwgen.codegen.verilog import emit_systemverilog

    board = find_board("ulx3s-25f")
    config = NpuConfig(
        array=board.array,
        requant_lanes=board.npu.requant_lanes,
        serial_setup=board.npu.serial_setup,
        **SMALL_MEMORIES,
    )
    assert not config.serial_setup and config.requant_lanes == 2
    device = SimpleNamespace(device=board.device)

    def emit(directory: Path) -> list[Path]:
        model = directory / "mult18x18d.v"
        model.write_text(mult18x18d_model())
        top = directory / "core.sv"
        top.write_text(emit_systemverilog(Core(config), "core", device))
        assert "MULT18X18D" in top.read_text()
        return [model, top]

    run_cocotb_sources(emit, "core", "verification.core_tb", "ecp5", encode(config))
