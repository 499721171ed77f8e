"""Compiler passes: activation fusion, placement, the NPU plan (checked layer by layer against
the golden model) and the L2 memory plan."""

from __future__ import annotations

from functools import cache

import numpy as np
import onnx
import pytest
from onnx import helper

from hwgen.backends import golden
from hwgen.compiler import CompileOptions, compile_graph
from hwgen.errors import HwgenError
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.frontend import lower_or_raise
from hwgen.ir import Graph, OpKind, Target
from hwgen.passes import fuse_activation, npu_plan, placement
from tests.npu_layers import run_layer
from tests.single_node import single_node_model


@cache
def example_cnn(per_channel: bool) -> onnx.ModelProto:
    return quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, per_channel)


def _conv_relu_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(1, 3, 5, 5), dtype=np.int8)
    consts = {
        "xs": np.float32(0.05),
        "xz": np.int8(3),
        "w": rng.integers(-128, 128, size=(4, 3, 3, 3), dtype=np.int8),
        "ws": np.float32(0.01),
        "wz": np.int8(0),
        "ys": np.float32(0.2),
        "yz": np.int8(-20),
    }
    model = single_node_model(
        "QLinearConv",
        {"x": x},
        {k: np.asarray(v) for k, v in consts.items()},
        ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"],
        opset=14,
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
    )
    model.graph.node.append(helper.make_node("Relu", ["y"], ["r"], name="relu"))
    model.graph.output[0].name = "r"
    return model


def test_relu_fuses_into_the_conv_and_keeps_the_result() -> None:
    model = _conv_relu_model()
    x = np.random.default_rng(1).integers(-128, 128, size=(1, 3, 5, 5), dtype=np.int8)
    before = golden.run(lower_or_raise(model), {"x": x})["r"]
    graph = fuse_activation.apply(lower_or_raise(model))
    assert [n.op for n in graph.nodes] == [OpKind.CONV]
    assert graph.nodes[0].outputs == ("r",)
    after = golden.run(graph, {"x": x})["r"]
    np.testing.assert_array_equal(after, before)
    assert (before == 0).any() and (before > 0).any()  # the ReLU did bite


def test_placement_of_the_example_cnn() -> None:
    graph = placement.apply(lower_or_raise(example_cnn(True)))
    where = {n.name: n.target for n in graph.nodes}
    assert where["conv1_quant"] is Target.NPU and where["pw2_quant"] is Target.NPU
    assert where["fc_quant"] is Target.NPU
    assert where["dw2_quant"] is Target.HOST
    assert "depthwise" in graph.node("dw2_quant").reason
    assert where["pool1"] is Target.HOST and "no NPU datapath" in graph.node("pool1").reason


def test_placement_overrides() -> None:
    graph = lower_or_raise(example_cnn(True))
    placed = placement.apply(graph, {"conv1_quant": Target.HOST})
    assert placed.node("conv1_quant").target is Target.HOST
    assert "--place" in placed.node("conv1_quant").reason
    with pytest.raises(HwgenError, match="node 'pool1' \\(maxpool\\): cannot place on the NPU"):
        placement.apply(lower_or_raise(example_cnn(True)), {"pool1": Target.NPU})
    with pytest.raises(HwgenError, match="names no node"):
        placement.apply(lower_or_raise(example_cnn(True)), {"nope": Target.HOST})


def _tensor_values(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor of a golden run: inputs, constants and node outputs."""
    values: dict[str, np.ndarray] = {**graph.constants, "input": x}
    golden.run(
        graph, {"input": x}, observe=lambda node, value: values.__setitem__(node.outputs[0], value)
    )
    return values


def _nchw(value: np.ndarray) -> np.ndarray:
    """A matmul operand (rows, features) as the 1 x features x rows x 1 image the NPU sees."""
    return value if value.ndim == 4 else np.ascontiguousarray(value.T[None, :, :, None])


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
@pytest.mark.parametrize("m", [4, 8])
def test_every_npu_layer_of_the_plan_equals_golden(m: int, per_channel: bool) -> None:
    """Each NPU layer's program, for the tiling the search chose, on the functional model:
    the golden output, in the cycles the plan reports."""
    graph = lower_or_raise(example_cnn(per_channel))
    comp = compile_graph(graph, CompileOptions(array=m))
    assert comp.npu is not None and len(comp.npu.layers) == 4
    x = np.random.default_rng(7).uniform(-1.5, 1.5, size=networks.CNN_INPUT).astype(np.float32)
    values = _tensor_values(comp.graph, x)
    for plan in comp.npu.layers:
        node = comp.graph.node(plan.node)
        want = values[node.outputs[0]]
        got, cycles = run_layer(
            comp.npu.config, _nchw(values[node.inputs[0]]), plan.layer, plan.tiling, want.dtype.type
        )
        np.testing.assert_array_equal(got, _nchw(want), err_msg=plan.node)
        assert cycles == plan.cycles


def test_memory_plan_never_overlaps_live_buffers() -> None:
    comp = compile_graph(lower_or_raise(example_cnn(True)), CompileOptions(array=8))
    assert comp.memory is not None
    plan = comp.memory
    runtime = {n for node in comp.graph.nodes for n in node.outputs} | set(comp.graph.inputs)
    assert runtime <= {a.tensor.removesuffix("#npu") for a in plan.allocations}
    for a in plan.allocations:
        for b in plan.allocations:
            if a is b or a.last < b.first or b.last < a.first:
                continue
            assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
    assert plan.peak >= max(a.size for a in plan.allocations)
    assert plan.peak < sum(a.size for a in plan.allocations)  # space is reused


def test_config_is_sized_by_the_budget_and_no_larger_than_the_network_uses() -> None:
    options = CompileOptions(array=4, act_kib=1, weight_kib=4096)
    comp = compile_graph(lower_or_raise(example_cnn(True)), options)
    assert comp.npu is not None
    config = comp.npu.config
    assert config.array == 4
    assert config.act_depth == 1024 // (2 * 4)  # the budget: 1 KiB for both banks
    largest = max(p.shape.cout_blocks * p.shape.reduction_blocks for p in comp.npu.layers)
    assert config.weight_depth == largest  # 4 MiB afforded, no more used
    assert npu_plan.NAME in comp.steps


def test_a_layer_that_does_not_fit_the_buffers_is_refused_with_what_would_do() -> None:
    with pytest.raises(HwgenError) as caught:
        compile_graph(lower_or_raise(example_cnn(True)), CompileOptions(array=8, weight_kib=0.5))
    message = caught.value.message
    # conv1 (3x3 over 3 channels) is unfolded into 27 channels: four blocks, 256 bytes.
    assert "node 'conv3_quant' (conv): cannot be tiled into the NPU's buffers" in message
    assert "the weights of one block of 8 output channels (3x3 over 16 channels)" in message
    assert "take 1,152 bytes per bank, where the budget gives 256" in message
    assert "the smallest that would do is --weight-kib 2.25" in message
