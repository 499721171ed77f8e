"""onnxruntime, the oracle the golden model is measured against."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort


def onnxruntime_outputs(
    model: onnx.ModelProto,
    inputs: Mapping[str, npt.ArrayLike],
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
) -> dict[str, npt.NDArray[np.generic]]:
    """Outputs of onnxruntime's CPU provider, on one thread so that results never depend on
    how work is split."""
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    results = session.run(names, {k: np.asarray(v) for k, v in inputs.items()})
    return dict(zip(names, (np.asarray(r) for r in results), strict=True))
