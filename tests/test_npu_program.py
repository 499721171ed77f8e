"""A quantized convolution mapped onto the NPU (channels padded to M, zero point folded into
the bias, the layer cut into tiles by its program) computes exactly what the golden model
computes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwgen.ir.geometry import Conv2dGeometry
from hwgen.npu.config import NpuConfig
from hwgen.npu.program import ConvLayer
from hwgen.npu.tiling import Order, Tiling, fits
from hwgen.passes.npu_plan import layer_shape
from hwgen.sim_models.linear import conv2d_acc
from hwgen.sim_models.quant import channel_view, requantize
from tests.npu_layers import run_layer


@st.composite
def conv_layers(draw: st.DrawFn) -> tuple[np.ndarray, ConvLayer]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c, o = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = draw(st.integers(dh * (kh - 1) + 1, 8))
    w = draw(st.integers(dw * (kw - 1) + 1, 8))
    pads = (
        draw(st.integers(0, kh - 1)),
        draw(st.integers(0, kw - 1)),
        draw(st.integers(0, kh - 1)),
        draw(st.integers(0, kw - 1)),
    )
    geom = Conv2dGeometry(
        (kh, kw), (draw(st.integers(1, 2)), draw(st.integers(1, 2))), pads, (dh, dw)
    )
    x = rng.integers(-128, 128, size=(1, c, h, w), dtype=np.int8)
    layer = ConvLayer(
        weights=rng.integers(-128, 128, size=(o, c, kh, kw), dtype=np.int8),
        bias=rng.integers(-(2**16), 2**16, size=o).astype(np.int32),
        x_zero_point=draw(st.integers(-128, 127)),
        multiplier=np.exp(rng.uniform(np.log(2.0**-14), np.log(2.0**-6), size=o)).astype(
            np.float32
        ),
        y_zero_point=draw(st.integers(-128, 127)),
        geometry=geom,
    )
    return x, layer


@pytest.mark.parametrize("m", [4, 8])
@settings(max_examples=30, deadline=None)
@given(case=conv_layers(), tile=st.tuples(st.integers(1, 8), st.integers(1, 8), st.integers(1, 3)))
def test_tiled_conv_equals_golden(
    m: int, case: tuple[np.ndarray, ConvLayer], tile: tuple[int, int, int]
) -> None:
    """Any tiling that fits: every tile's halo, padding at the borders, channel blocks, both
    orders; the output equals the golden model's."""
    x, layer = case
    config = NpuConfig(
        array=m, act_depth=256, weight_depth=64, param_depth=24, out_depth=128, cmd_depth=64
    )
    shape = layer_shape(layer, (x.shape[2], x.shape[3]), m)
    rows, cols, couts = tile
    order = Order.ACTS_OUTER if (rows + cols) % 2 else Order.WEIGHTS_OUTER
    tiling = Tiling(
        min(rows, shape.out_h), min(cols, shape.out_w), min(couts, shape.cout_blocks), order
    )
    if not fits(shape, tiling, config):
        tiling = Tiling(1, 1, 1, order)
    got, busy = run_layer(config, x, layer, tiling)
    acc = conv2d_acc(x, layer.weights, layer.geometry, 1, layer.x_zero_point, 0, layer.bias)
    want = requantize(acc, channel_view(layer.multiplier, 4, 1), layer.y_zero_point, np.int8)
    np.testing.assert_array_equal(got, want)
    assert busy > 0
