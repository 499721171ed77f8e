"""Quantize a float example with onnxruntime's quantize_static, as a user would."""

from __future__ import annotations

import enum
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)

from hwgen.examples import networks


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """The quantizer logs advice (pre-processing, QDQ on x64) on the root logger at WARNING; it
    does not apply to these small, fully shaped models."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


class Format(enum.Enum):
    QOPERATOR = "qoperator"
    QDQ = "qdq"


class _RandomCalibration(CalibrationDataReader):  # type: ignore[misc]
    def __init__(self, shape: tuple[int, ...], count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self._batches = iter(
            [{"input": rng.uniform(-1, 1, size=shape).astype(np.float32)} for _ in range(count)]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize(
    model: onnx.ModelProto,
    input_shape: tuple[int, ...],
    fmt: Format,
    per_channel: bool,
    calibration_batches: int = 16,
    seed: int = 1,
    unsigned_activations: bool = False,
) -> onnx.ModelProto:
    """int8 weights, int8 (or, as onnxruntime's default, uint8) activations, static
    calibration on uniform random inputs."""
    with tempfile.TemporaryDirectory() as tmp, _quiet_root_logger():
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "quant.onnx"
        onnx.save(model, str(src))
        quantize_static(
            str(src),
            str(dst),
            _RandomCalibration(input_shape, calibration_batches, seed),
            quant_format=QuantFormat.QOperator if fmt is Format.QOPERATOR else QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8 if unsigned_activations else QuantType.QInt8,
            weight_type=QuantType.QInt8,
        )
        return onnx.load(str(dst))


def demo_cnn() -> onnx.ModelProto:
    """The network `hwgen demo` and `nox -s fpga` build: the example CNN, QOperator,
    per-channel weights."""
    return quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, per_channel=True)
