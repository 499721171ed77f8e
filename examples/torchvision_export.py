"""Real architectures as a user brings them: a torchvision network (random weights), exported to
ONNX by torch and quantized by onnxruntime (`quant_pre_process`, then `quantize_static`), as
hwgen's tests of real networks and its benchmarks use them.

Needs torch and torchvision, which hwgen never depends on: run it in an environment of its own
(docs/real-networks.md says which versions), e.g.

    python examples/torchvision_export.py resnet18 --size 224 -o resnet18-224.onnx

With `--skeleton` it writes the float graph as the quantizer takes it (exported, pre-processed)
without its weights: every tensor of 1 KiB or more is left as an external reference to a file
that is not written. hwgen.examples.skeletons fills those with random weights and quantizes the
result, so the tests and benchmarks run torchvision's exports without torch, from files of a few
kilobytes (hwgen/examples/nets/).

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


def skeleton(pre: Path, output: Path) -> None:
    """The pre-processed float model without the data of its large tensors."""
    import onnx
    from onnx.external_data_helper import convert_model_to_external_data

    model = onnx.load(str(pre))
    convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.absent", size_threshold=1024
    )
    # Serialize the references only: the data stays behind in the tensors until it is cleared.
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            tensor.ClearField("raw_data")
    onnx.save(model, str(output))


def export(
    arch: str,
    size: int,
    output: Path,
    *,
    fmt: str = "qoperator",
    per_channel: bool = True,
    calibration: int = 8,
    seed: int = 0,
    as_skeleton: bool = False,
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
        if as_skeleton:
            skeleton(pre, output)
            return
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
    parser.add_argument(
        "--skeleton", action="store_true", help="the float graph without its weights"
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    export(
        args.arch,
        args.size,
        args.output,
        fmt=args.format,
        per_channel=not args.per_tensor,
        as_skeleton=args.skeleton,
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
