"""Memory words of the NPU as Python integers: int8 lanes, lane i at bits [8i, 8i+8)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def lanes_word(values: npt.ArrayLike) -> int:
    return int.from_bytes(np.asarray(values).astype(np.int8).tobytes(), "little")


def word_lanes(word: int, lanes: int) -> npt.NDArray[np.uint8]:
    return np.frombuffer(int(word).to_bytes(lanes, "little"), dtype=np.uint8).copy()
