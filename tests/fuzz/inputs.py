"""Damaged inputs: the seed's valid inputs with one thing wrong."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Inputs = dict[str, npt.NDArray[np.generic]]


def damage_inputs(rng: np.random.Generator, inputs: Inputs) -> tuple[Inputs, str]:
    name = next(iter(inputs))
    value = inputs[name].copy()
    choice = int(rng.integers(9))
    if choice <= 2:
        special = (np.nan, np.inf, -np.inf)[choice]
        flat = value.reshape(-1)
        if rng.integers(2):
            flat[:] = special
            return {**inputs, name: value}, f"'{name}' all {special}"
        flat[int(rng.integers(flat.size))] = special
        return {**inputs, name: value}, f"'{name}' one {special}"
    if choice == 3:
        return {**inputs, name: value * np.float32(1e30)}, f"'{name}' scaled by 1e30"
    if choice == 4:
        return {**inputs, name: value.reshape(-1)}, f"'{name}' flattened"
    if choice == 5:
        dtype = (np.float64, np.int8, np.uint8, np.int32)[int(rng.integers(4))]
        return {**inputs, name: value.astype(dtype)}, f"'{name}' as {np.dtype(dtype)}"
    if choice == 6:
        return {}, f"'{name}' missing"
    if choice == 7:
        return {**inputs, "extra": value}, "an extra input"
    return {**inputs, name: value[..., :1]}, f"'{name}' cut to one column"
