"""The report's account of each NPU layer: where its cycles go, the bytes its DMA moves, and its
place under the roofline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from hwgen.compiler import CompileOptions, compile_model
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.report import report
from hwgen.report_html import render


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    path = tmp_path_factory.mktemp("model") / "resnet8.onnx"
    model = quantize(networks.resnet8(), networks.RESNET8_INPUT, Format.QOPERATOR, True)
    onnx.save(model, str(path))
    comp = compile_model(path, CompileOptions(array=8, l1=8192))
    return report(comp)


def npu_layers(summary: dict) -> list[dict]:  # type: ignore[type-arg]
    return [layer for layer in summary["layers"] if layer["npu"]]


def test_no_layer_beats_its_roofline(summary: dict) -> None:  # type: ignore[type-arg]
    """Each beat takes a cycle on its channel and the array does at most M^2 MACs a cycle: a
    layer above its bound would be a cycle model that forgot some work."""
    for layer in npu_layers(summary):
        npu = layer["npu"]
        assert 0 < npu["macs_per_cycle"] <= npu["bound_macs_per_cycle"] <= 64, layer["name"]


def test_cycles_split_into_compute_and_waiting(summary: dict) -> None:  # type: ignore[type-arg]
    for layer in npu_layers(summary):
        npu = layer["npu"]
        assert npu["cycles"] == layer["cycles_model"]
        assert npu["compute_cycles"] + npu["exposed_cycles"] == npu["cycles"]
        # The array's steps are part of the core's busy cycles.
        assert npu["compute_cycles"] >= layer["macs"] / 64
        assert 0 <= npu["hidden_cycles"] <= npu["load_cycles"] + npu["store_cycles"]


def test_bytes_moved_cover_every_weight_input_and_output(summary: dict) -> None:  # type: ignore[type-arg]
    """Every weight byte, input byte and output byte of a layer crosses the bus at least once
    (channels padded to M, the NPU's layout)."""
    shapes = {"conv0_quant": ((32, 32, 8), (16, 8, 3, 3), (32, 32, 16))}
    for layer in npu_layers(summary):
        if layer["name"] in shapes:
            x, w, y = (int(np.prod(s)) for s in shapes[layer["name"]])
            assert layer["npu"]["read_bytes"] >= x + w
            assert layer["npu"]["written_bytes"] == y


def test_the_classifier_is_bound_by_the_bus(summary: dict) -> None:  # type: ignore[type-arg]
    """A GEMM of one row reads each weight for one MAC: far left on the roofline."""
    fc = next(layer for layer in npu_layers(summary) if layer["op"] == "matmul")
    assert fc["npu"]["bound_by"] == "bus" and fc["npu"]["macs_per_byte"] < 1
    # A 3x3 convolution reuses each input byte nine times, each weight at every pixel (but
    # conv0's input is unfolded: nine taps of three channels, read once).
    convs = [layer for layer in npu_layers(summary) if "shortcut" not in layer["name"]]
    convs = [layer for layer in convs if layer["op"] == "conv" and layer["name"] != "conv0_quant"]
    assert len(convs) == 6 and all(layer["npu"]["bound_by"] == "array" for layer in convs)


def test_the_page_draws_the_roofline(summary: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    page = render(summary)
    assert 'aria-label="roofline"' in page
    assert page.count('class="point"') == len(npu_layers(summary))
    assert "Where the NPU layers' cycles go" in page


def test_float_report_names_the_nodes_onnxruntime_computes_in_float() -> None:
    """A QDQ ReduceMean onnxruntime takes in float (hwgen in integers): the report names it and
    counts, on its probe inputs, the elements that equal onnxruntime's and the largest
    difference, as running both on those inputs finds them."""
    from hwgen.agreement import float_report, probe_inputs
    from hwgen.backends import golden
    from hwgen.frontend import lower_or_raise
    from tests.conftest import ort_run
    from tests.test_ops_vs_onnxruntime import _qdq_group

    x = np.zeros((1, 4, 5, 6), np.uint8)
    consts = {
        "xs": np.array(0.037, np.float32),
        "xz": np.array(121, np.uint8),
        "ys": np.array(0.011, np.float32),
        "yz": np.array(3, np.uint8),
    }
    model = _qdq_group("ReduceMean", x, consts, axes=[2, 3], keepdims=1)
    found = float_report(model)
    assert found is not None
    (layer,) = found["layers"]
    assert layer["onnx_nodes"] == ["f"] and layer["op"] == "global_avgpool"
    graph = lower_or_raise(model)
    inputs = probe_inputs(graph)
    got = golden.run(graph, inputs)["y"].astype(np.int64)
    want = ort_run(model, inputs)["y"].astype(np.int64)
    assert layer["total"] == want.size
    assert layer["exact"] == int((got == want).sum())
    assert layer["worst_lsb"] == int(np.abs(got - want).max()) <= 1


def test_float_report_is_empty_where_onnxruntime_runs_integers() -> None:
    from hwgen.agreement import float_report

    model = quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, True)
    assert float_report(model) == {
        "probe": "random inputs over each input's quantized range, seed 0",
        "layers": [],
    }


def test_report_html_lists_the_float_nodes(tmp_path: Path) -> None:
    from hwgen.builder import compile_build

    model = quantize(networks.segmenter(), networks.SEGMENTER_INPUT, Format.QDQ, True)
    build, _ = compile_build(model, CompileOptions(array=4), tmp_path / "build")
    floats = build.report()["onnxruntime_float"]["layers"]
    assert {r["op"] for r in floats} >= {"resize"}, floats
    assert "float32 in hwgen too" in (tmp_path / "build" / "report.html").read_text()
