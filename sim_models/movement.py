"""Data movement: exact for any element type."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def pad_constant(
    x: npt.ArrayLike, pads: Sequence[int], value: int | float
) -> npt.NDArray[np.generic]:
    """ONNX Pad, constant mode; `pads` lists all begins then all ends (negative crops)."""
    xa = np.asarray(x)
    rank = xa.ndim
    begins, ends = pads[:rank], pads[rank:]
    widths = [(max(b, 0), max(e, 0)) for b, e in zip(begins, ends, strict=True)]
    padded = np.pad(xa, widths, mode="constant", constant_values=np.asarray(value, xa.dtype))
    crop = tuple(
        slice(-min(b, 0), padded.shape[i] + min(e, 0))
        for i, (b, e) in enumerate(zip(begins, ends, strict=True))
    )
    return np.asarray(padded[crop])
