"""Every example network, in each quantization format: `python -m hwgen.examples.build DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

import onnx

from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize

NETWORKS = {
    "mlp": (networks.mlp, networks.MLP_INPUT),
    "cnn": (networks.cnn, networks.CNN_INPUT),
    "resnet8": (networks.resnet8, networks.RESNET8_INPUT),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    out = parser.parse_args().directory
    out.mkdir(parents=True, exist_ok=True)
    for name, (build, shape) in NETWORKS.items():
        model = build()
        onnx.save(model, str(out / f"{name}_float.onnx"))
        for fmt in Format:
            for per_channel in (False, True):
                granularity = "per_channel" if per_channel else "per_tensor"
                path = out / f"{name}_{fmt.value}_{granularity}.onnx"
                onnx.save(quantize(model, shape, fmt, per_channel), str(path))
                print(path)


if __name__ == "__main__":
    main()
