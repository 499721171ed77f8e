"""The bridge protocol's pieces that need no simulator: frame layout, the CRC the RTL computes,
and the check that a board carries the NPU a network was compiled for."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwgen.backends.board import check_board
from hwgen.boards.bridge import _crc_step
from hwgen.boards.protocol import Command, crc16, info_word, parse_info, request
from hwgen.errors import HwgenError
from hwgen.npu.config import NpuConfig, RequantMode


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFF))
def test_rtl_crc_step_is_crc_ccitt(crc: int, byte: int) -> None:
    assert _crc_step(crc | byte << 16) == binascii.crc_hqx(bytes([byte]), crc)


def test_request_layout_and_crc_residue() -> None:
    frame = request(7, Command.WRITE32, 0x24, b"\x01\x02\x03\x04")
    assert frame[:9] == bytes([0x5A, 7, 2, 4, 0, 0x24, 0, 0, 0])
    assert frame[9:13] == b"\x01\x02\x03\x04"
    # The receiver runs the CRC over the body and the CRC itself: zero when undamaged.
    assert crc16(frame[1:]) == 0
    damaged = bytearray(frame)
    damaged[10] ^= 0x10
    assert crc16(bytes(damaged[1:])) != 0


def test_info_word_round_trip() -> None:
    assert parse_info(info_word(256, 4)) == (1, 256, 4)


def test_a_board_with_another_npu_is_refused() -> None:
    config = NpuConfig(array=8, param_depth=8)
    check_board(8 | 4 << 16, config)
    with pytest.raises(HwgenError, match=r"board's NPU is 4x4 with ort requant.*needs 8x8"):
        check_board(4 | 4 << 16, config)
    shift = NpuConfig(array=8, param_depth=8, requant=RequantMode.SHIFT)
    with pytest.raises(HwgenError, match=r"with ort requant.*this build needs 8x8 with shift"):
        check_board(8 | 4 << 16, shift)
    wide = NpuConfig(array=8, param_depth=8, data_width=64)
    with pytest.raises(HwgenError, match=r"32-bit data port, this build needs .* 64-bit"):
        check_board(8 | 4 << 16, wide)
