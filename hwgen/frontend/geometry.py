"""Kernel geometry from ONNX conv/pool attributes, including auto_pad."""

from __future__ import annotations

from hwgen.frontend.context import LoweringContext
from hwgen.ir.geometry import Conv2dGeometry


def geometry_2d(
    ctx: LoweringContext, in_hw: tuple[int, int], kernel: tuple[int, ...], pooling: bool
) -> Conv2dGeometry:
    if len(kernel) != 2:
        raise ctx.unsupported(f"only 2-D kernels are supported, got kernel_shape {list(kernel)}")
    strides = tuple(ctx.attr("strides", [1, 1]))
    dilations = tuple(ctx.attr("dilations", [1, 1]))
    pads = tuple(ctx.attr("pads", [0, 0, 0, 0]))
    ceil_mode = bool(ctx.attr("ceil_mode", 0)) if pooling else False
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pad_list = [0, 0, 0, 0]
        for axis in range(2):
            out = -(-in_hw[axis] // strides[axis])
            total = max(
                (out - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1 - in_hw[axis],
                0,
            )
            small, big = total // 2, total - total // 2
            before, after = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
            pad_list[axis], pad_list[axis + 2] = before, after
        pads = tuple(pad_list)
    elif auto_pad == "VALID":
        pads = (0, 0, 0, 0)
    elif auto_pad != "NOTSET":
        raise ctx.unsupported(f"auto_pad '{auto_pad}' is not an ONNX value")
    if len(strides) != 2 or len(dilations) != 2 or len(pads) != 4:
        raise ctx.unsupported("strides, dilations and pads must describe a 2-D kernel")
    geom = Conv2dGeometry(
        kernel=(int(kernel[0]), int(kernel[1])),
        strides=(int(strides[0]), int(strides[1])),
        pads=(int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])),
        dilations=(int(dilations[0]), int(dilations[1])),
        ceil_mode=ceil_mode,
    )
    oh, ow = geom.output_size(*in_hw)
    if oh <= 0 or ow <= 0:
        raise ctx.unsupported(f"kernel {list(kernel)} does not fit the {in_hw[0]}x{in_hw[1]} input")
    return geom
