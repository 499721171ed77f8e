"""The compile-time fit of an NPU on a board: block RAMs of the memories the design really has,
multipliers, and a refusal that says what is over."""

from __future__ import annotations

import pytest

from hwgen.boards.fit import blocks_for, check_fit, fit, multipliers
from hwgen.boards.targets import board
from hwgen.errors import HwgenError
from hwgen.npu.banked_memory import BANK_WORDS
from hwgen.npu.budget import config_for
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.tiling import LayerShape

LAYER = LayerShape(56, 56, 8, 56, 56, 8, (3, 3), pad=(1, 1))


@pytest.mark.parametrize(
    ("width", "depth", "lanes", "family", "blocks"),
    [
        # 512 x 36 is the widest ECP5 shape: a 32-bit lane of 1,536 words takes three.
        (512, 1536, 16, "ecp5", 48),
        # Bytes written apart, 49,152 deep: 2,048 x 9 per block, 24 deep, for each byte.
        (32, 49152, 4, "ecp5", 96),
        (64, 2048, 1, "ecp5", 8),
        (16, 256, 1, "ice40", 1),
        (32, 1024, 4, "ice40", 8),
        (20, 15, 1, "ecp5", 0),  # a FIFO's: LUT RAM
    ],
)
def test_blocks_of_a_memory(width: int, depth: int, lanes: int, family: str, blocks: int) -> None:
    assert blocks_for(width, depth, lanes, family) == blocks


def test_every_buffer_of_the_design_is_counted() -> None:
    ulx3s = board("ulx3s")
    config = config_for(ulx3s.npu, [LAYER], RequantMode.ORT)
    found = fit(config, ulx3s)
    paths = {m.path.rsplit("/", 1)[-1] for m in found.memories}
    assert {"act", "param_mem_0", "param_mem_1", "out_mem", "program"} <= paths
    # The weights in banks one block deep (hwgen.npu.banked_memory), each its blocks' width.
    weights = [m for m in found.memories if "/weights/" in m.path]
    assert weights and sum(m.depth for m in weights) == config.weight_words
    assert all(m.depth <= BANK_WORDS for m in weights)
    parts = found.blocks_by_part()
    assert parts["system memory"] * 2048 == ulx3s.sysmem_bytes
    # Each buffer takes at least its bytes in blocks.
    assert parts["NPU buffers"] * 2048 >= sum(
        v for k, v in config.buffer_bytes().items() if k != "commands"
    )
    assert found.fits and found.multipliers == 64 + 2 * 4 + 1


def test_the_iceBreakers_npu_takes_no_multiplier_beyond_the_array() -> None:
    icebreaker = board("icebreaker")
    config = config_for(icebreaker.npu, [LAYER], RequantMode.ORT)
    assert multipliers(config, "ice40") == 8  # two products per SB_MAC16, nothing else


def test_an_npu_over_the_board_is_refused_with_what_would_do() -> None:
    ulx3s = board("ulx3s")
    big = NpuConfig(array=8, weight_depth=2048, act_depth=8192)  # 256 + 128 KiB
    with pytest.raises(HwgenError, match=r"does not fit the ULX3S.*--weight-kib"):
        check_fit(big, ulx3s)
    wide = NpuConfig(array=16, data_width=32, act_depth=64, weight_depth=8, out_depth=64)
    with pytest.raises(HwgenError, match=r"multipliers of 156.*--array"):
        check_fit(wide, ulx3s)
