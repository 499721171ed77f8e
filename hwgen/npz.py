"""Reading and writing the .npz files of `hwgen run`, atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen.errors import HwgenError
from hwgen.outdir import give_user_mode, unusable


def load_npz(path: str | Path) -> dict[str, npt.NDArray[np.generic]]:
    p = Path(path)
    if not p.is_file():
        raise HwgenError(f"'{p}': no such file")
    try:
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile, pickle refusal and format errors alike
        raise HwgenError(f"'{p}' is not a readable .npz file ({exc})") from None


def save_npz(path: str | Path, arrays: Mapping[str, npt.ArrayLike]) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file."""
    p = Path(path)
    if p.is_dir():
        raise HwgenError(f"cannot write '{p}': it is a directory")
    if not p.parent.is_dir():
        raise HwgenError(f"cannot write '{p}': directory '{p.parent}' does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".npz")
    except OSError as exc:
        raise unusable(p, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            savez: Any = np.savez  # numpy's stub types **kwds as its own flags
            savez(f, **{k: np.asarray(v) for k, v in arrays.items()})
        give_user_mode(Path(tmp), directory=False)
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise unusable(p, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
