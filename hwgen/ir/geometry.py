"""Where a convolution's or pooling window's taps fall: kernel, strides, pads, dilations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Conv2dGeometry:
    """Kernel placement of a 2-D convolution or pooling window."""

    kernel: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right
    dilations: tuple[int, int] = (1, 1)
    ceil_mode: bool = False

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        sizes = []
        for extent, k, s, d, before, after in (
            (
                height,
                self.kernel[0],
                self.strides[0],
                self.dilations[0],
                self.pads[0],
                self.pads[2],
            ),
            (width, self.kernel[1], self.strides[1], self.dilations[1], self.pads[1], self.pads[3]),
        ):
            span = extent + before + after - d * (k - 1) - 1
            if self.ceil_mode:
                out = -(-span // s) + 1
                # A window that would start inside the end padding is dropped (ONNX rule).
                if (out - 1) * s >= extent + before:
                    out -= 1
            else:
                out = span // s + 1
            sizes.append(out)
        return sizes[0], sizes[1]
