"""Unfolding a convolution over few channels (im2col on the host, a 1x1 convolution on the NPU):
the same outputs bit for bit, only where it saves reduction blocks and the input comes from the
host."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hwgen.backends import golden
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.frontend import lower_or_raise
from hwgen.ir import OpKind, Target
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.passes import placement, unfold_stem
from hwgen.sim_models.movement import im2col


@pytest.mark.parametrize(
    "geometry",
    [
        Conv2dGeometry((3, 3), pads=(1, 1, 1, 1)),
        Conv2dGeometry((7, 7), strides=(2, 2), pads=(3, 3, 3, 3)),
        Conv2dGeometry((3, 2), strides=(1, 2), pads=(2, 0, 1, 1), dilations=(2, 1)),
    ],
)
def test_im2col_gathers_each_tap(geometry: Conv2dGeometry) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(1, 3, 9, 8), dtype=np.int8)
    got = im2col(x, geometry, pad_value=-7)
    kh, kw = geometry.kernel
    oh, ow = geometry.output_size(9, 8)
    assert got.shape == (1, kh * kw * 3, oh, ow)
    for oy, ox, ky, kx, c in itertools.product(
        range(oh), range(ow), range(kh), range(kw), range(3)
    ):
        iy = oy * geometry.strides[0] - geometry.pads[0] + ky * geometry.dilations[0]
        ix = ox * geometry.strides[1] - geometry.pads[1] + kx * geometry.dilations[1]
        want = x[0, c, iy, ix] if 0 <= iy < 9 and 0 <= ix < 8 else -7
        assert got[0, (ky * kw + kx) * 3 + c, oy, ox] == want


@pytest.mark.parametrize("unsigned", [False, True], ids=["int8", "uint8"])
def test_the_unfolded_network_computes_the_same_bits(unsigned: bool) -> None:
    model = quantize(
        networks.resnet8(),
        networks.RESNET8_INPUT,
        Format.QOPERATOR,
        True,
        unsigned_activations=unsigned,
    )
    placed = placement.apply(lower_or_raise(model))
    unfolded = unfold_stem.apply(placed, array=8)
    [im2col_node] = [n for n in unfolded.nodes if n.op is OpKind.IM2COL]
    assert im2col_node.target is Target.HOST
    conv = unfolded.node("conv0_quant")
    assert conv.inputs[0] == im2col_node.outputs[0] and conv.target is Target.NPU
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = {"input": rng.uniform(-1.5, 1.5, networks.RESNET8_INPUT).astype(np.float32)}
        before, after = golden.run(placed, x), golden.run(unfolded, x)
        for key, value in before.items():
            np.testing.assert_array_equal(after[key].view(np.uint32), value.view(np.uint32))


def test_only_layers_that_save_blocks_and_read_the_host_are_unfolded() -> None:
    model = quantize(networks.resnet8(), networks.RESNET8_INPUT, Format.QOPERATOR, True)
    placed = placement.apply(lower_or_raise(model))
    # 3 channels x 9 taps: 4 blocks of 8 instead of 9; of 16, 2 instead of 9; of 32, 1 of 9.
    for array in (8, 16):
        assert unfold_stem.worth_unfolding(placed, placed.node("conv0_quant"), array)
    # Every other convolution reads an NPU layer's output, or has channels enough.
    others = [n for n in placed.nodes if n.op is OpKind.CONV and n.name != "conv0_quant"]
    assert not any(unfold_stem.worth_unfolding(placed, n, 8) for n in others)
    # On the host, it stays as it is.
    hosted = placement.apply(lower_or_raise(model), {"conv0_quant": Target.HOST})
    assert not unfold_stem.worth_unfolding(hosted, hosted.node("conv0_quant"), 8)
