"""Shared helpers: onnxruntime as the oracle."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort


def ort_run(
    model: onnx.ModelProto,
    inputs: Mapping[str, npt.ArrayLike],
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
) -> dict[str, np.ndarray]:
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    results = session.run(names, {k: np.asarray(v) for k, v in inputs.items()})
    return dict(zip(names, (np.asarray(r) for r in results), strict=True))


def assert_bit_exact(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind == "f":
        same = got.view(np.uint32 if got.dtype.itemsize == 4 else np.uint64) == want.view(
            np.uint32 if want.dtype.itemsize == 4 else np.uint64
        )
    else:
        same = got == want
    if not same.all():
        idx = tuple(int(i) for i in np.argwhere(~same)[0])
        raise AssertionError(
            f"{what}: {int((~same).sum())} of {same.size} elements differ; first at {idx}: "
            f"expected {want[idx]!r}, got {got[idx]!r}"
        )
