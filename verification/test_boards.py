"""Smoke elaboration of each board's top (bridge + NPU on the board's pins), as amaranth-boards
checks its own platforms: the build plan is made, nothing is synthesized (`nox -s fpga` does
that)."""

from __future__ import annotations

import pytest

from hwgen.boards.flow import UNDEFINED_COLLISIONS, plan_options
from hwgen.boards.targets import board as find_board
from hwgen.boards.targets import boards
from hwgen.boards.top import BoardTop, uart_divisor
from hwgen.errors import HwgenError
from hwgen.npu.config import NpuConfig, RequantMode


@pytest.mark.parametrize("requant", list(RequantMode))
@pytest.mark.parametrize("name", sorted(boards()))
def test_board_top_elaborates(name: str, requant: RequantMode) -> None:
    board = find_board(name)
    config = NpuConfig(
        array=board.array,
        weight_depth=32,
        act_depth=64,
        out_depth=64,
        param_depth=16,
        requant=requant,
    )
    platform = board.platform()
    plan = platform.build(
        BoardTop(config, uart_divisor(board.clock_mhz * 1e6, 1_000_000), board.sysmem_bytes),
        name="top",
        do_build=False,
        **plan_options(board),
    )
    files = dict(plan.files)
    assert "top.il" in files and "build_top.sh" in files
    script = str(files["top.ys"])
    assert UNDEFINED_COLLISIONS in script
    assert board.synth_opts in script
    constraints = files["top.pcf" if board.family.name == "ice40" else "top.lpf"]
    text = constraints if isinstance(constraints, str) else constraints.decode()
    assert "uart_0__rx" in text and "uart_0__tx" in text


def test_a_baud_rate_the_clock_cannot_make_is_refused() -> None:
    with pytest.raises(HwgenError, match="2200000 baud"):
        uart_divisor(12e6, 2_200_000)  # 12 MHz / 5 is 2.4 MHz, 9 % off
