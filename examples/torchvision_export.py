"""Real architectures as a user brings them: a torchvision network (random weights), exported to
ONNX by torch and quantized by onnxruntime (`quant_pre_process`, then `quantize_static`), as
hwgen's tests of real networks and its benchmarks use them.

Needs torch and torchvision, which hwgen never depends on: run it in an environment of its own
(../shared/TOOLCHAIN.md says which versions install on these machines), e.g.

    python examples/torchvision_export.py resnet18 --size 224 -o resnet18-224.onnx

It imports nothing of hwgen, so it runs where hwgen is not installed.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


class _Calibration:
    """Uniform random images: the weights are random too, so any data is as good."""

    def __init__(self, name: str, shape: tuple[int, ...], count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self._batches = iter(
            [{name: rng.uniform(-1, 1, size=shape).astype(np.float32)} for _ in range(count)]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def export(
    arch: str,
    size: int,
    output: Path,
    *,
    fmt: str = "qoperator",
    per_channel: bool = True,
    calibration: int = 8,
    seed: int = 0,
) -> None:
    import onnx
    import torch
    import torchvision
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    torch.manual_seed(seed)
    model: Any = getattr(torchvision.models, arch)(weights=None).eval()
    shape = (1, 3, size, size)
    with tempfile.TemporaryDirectory() as tmp:
        raw, pre = Path(tmp) / "float.onnx", Path(tmp) / "pre.onnx"
        torch.onnx.export(
            model,
            (torch.zeros(shape),),
            str(raw),
            input_names=["input"],
            output_names=["output"],
            opset_version=17,
            dynamo=False,
        )
        onnx.checker.check_model(str(raw))
        quant_pre_process(str(raw), str(pre), skip_symbolic_shape=True)
        reader = type("Reader", (_Calibration, CalibrationDataReader), {})(
            "input", shape, calibration, seed + 1
        )
        logging.getLogger().setLevel(logging.ERROR)  # the quantizer's advice, on the root logger
        quantize_static(
            str(pre),
            str(output),
            reader,
            quant_format=QuantFormat.QOperator if fmt == "qoperator" else QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "arch", help="a torchvision.models constructor: resnet18, mobilenet_v2, ..."
    )
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--format", choices=["qoperator", "qdq"], default="qoperator")
    parser.add_argument("--per-tensor", action="store_true", help="per-tensor weight scales")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    export(args.arch, args.size, args.output, fmt=args.format, per_channel=not args.per_tensor)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
