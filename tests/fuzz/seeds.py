"""The valid models every case starts from: the bundled examples, as onnxruntime's quantizer
writes them and as NEMO exports integer graphs, with inputs onnxruntime runs them on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import onnx

from hwgen.examples import integer_networks, networks
from hwgen.examples.quantize import Format, quantize


@dataclass(frozen=True)
class Seed:
    name: str
    model: bytes
    inputs: dict[str, npt.NDArray[np.float32]]
    # QOperator and NEMO graphs are bit-exact with onnxruntime; QDQ graphs within one LSB of
    # the output (onnxruntime leaves some groups unfused, in float).
    lsb_bound: int

    def load(self) -> onnx.ModelProto:
        return onnx.load_from_string(self.model)


def _input(shape: tuple[int, ...], seed: int, integer: bool = False) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    if integer:
        return rng.integers(-128, 128, size=shape).astype(np.float32)
    return rng.uniform(-1.5, 1.5, size=shape).astype(np.float32)


@cache
def seeds() -> tuple[Seed, ...]:
    found = []
    for name, build, shape in (
        ("mlp", networks.mlp, networks.MLP_INPUT),
        ("cnn", networks.cnn, networks.CNN_INPUT),
    ):
        for fmt in Format:
            for per_channel in (False, True):
                model = quantize(build(), shape, fmt, per_channel)
                label = f"{name}-{fmt.value}-{'per-channel' if per_channel else 'per-tensor'}"
                bound = 0 if fmt is Format.QOPERATOR else 1
                found.append(
                    Seed(label, model.SerializeToString(), {"input": _input(shape, 1)}, bound)
                )
    for name, build_int, shape in (
        ("mlp", integer_networks.mlp, integer_networks.MLP_INPUT),
        ("cnn", integer_networks.cnn, integer_networks.CNN_INPUT),
    ):
        model, _ = build_int("nemo")
        found.append(
            Seed(
                f"{name}-nemo",
                model.SerializeToString(),
                {"input": _input(shape, 2, integer=True)},
                0,
            )
        )
    return tuple(found)
