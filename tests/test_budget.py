"""The NpuConfig a budget gives a network: the budget's buffers, made no larger than the
network's layers can use, and its datapath choices."""

from __future__ import annotations

import pytest

from hwgen.boards.targets import boards
from hwgen.npu.budget import KIB, Budget, config_for, kib_for, word_bytes
from hwgen.npu.config import BANKS, RequantMode
from hwgen.npu.tiling import LayerShape

# A 3x3 convolution from 56x56x64 to 56x56x64, and a small 1x1 one.
BIG = LayerShape(56, 56, 8, 56, 56, 8, (3, 3), pad=(1, 1))
SMALL = LayerShape(4, 4, 1, 4, 4, 1)


def test_buffers_are_the_budgets_where_the_network_could_fill_them() -> None:
    budget = Budget(array=8, act_kib=32, weight_kib=64, out_kib=8, param_kib=2)
    config = config_for(budget, [BIG, SMALL], RequantMode.ORT)
    for field, kib in (
        ("act_depth", budget.act_kib),
        ("weight_depth", budget.weight_kib),
        ("out_depth", budget.out_kib),
    ):
        assert getattr(config, field) == int(kib * KIB) // (BANKS * word_bytes(config, field))
        # ... which is the budget again, to the word.
        assert kib_for(config, field, getattr(config, field)) <= kib


def test_buffers_shrink_to_what_the_largest_layer_can_use() -> None:
    config = config_for(Budget(array=8), [SMALL], RequantMode.ORT)
    assert config.act_depth == SMALL.in_h * SMALL.in_w * SMALL.cin_blocks
    assert config.weight_depth == SMALL.reduction_blocks * SMALL.cout_blocks
    assert config.out_depth == SMALL.out_h * SMALL.out_w
    assert config.param_depth == 8


@pytest.mark.parametrize("array", [2, 4, 8])
def test_parameter_depth_is_whole_channel_blocks(array: int) -> None:
    """Each requant lane reads its own parameter memory: a bank starts in lane 0's."""
    for param_kib in (0.1, 1, 1.3, 4):
        config = config_for(
            Budget(array=array, param_kib=param_kib, data_width=min(32, 8 * array)),
            [BIG],
            RequantMode.SHIFT,
        )
        assert config.param_depth % array == 0 and config.param_depth >= array
        assert config.param_depth % config.requant_lanes == 0


def test_datapath_choices_come_from_the_budget() -> None:
    lanes = config_for(Budget(array=2, data_width=16, requant_lanes=4), [SMALL], RequantMode.ORT)
    assert lanes.requant_lanes == 2, "no more lanes than the array has channels per row"
    narrow = config_for(
        Budget(array=4, requant_interval=4, requant_lanes=2, serial_setup=True),
        [SMALL],
        RequantMode.ORT,
    )
    assert (narrow.requant_interval, narrow.requant_lanes, narrow.serial_setup) == (4, 1, True)


def test_every_board_budget_gives_a_valid_config() -> None:
    for board in boards().values():
        config = config_for(board.npu, [BIG, SMALL], RequantMode.ORT)
        assert config.array == board.array
        assert sum(config.buffer_bytes().values()) <= board.capacity.bram_bytes + (
            board.capacity.spram_bytes
        )
