"""Host C + RTL co-simulation of the example networks equals the golden model on every layer
(MLP, CNN and a segmentation head, QOperator and QDQ, per-tensor and per-channel, M = 4 and 8,
an L1 small enough for multi-tile host layers), and the RTL's cycles per NPU layer equal the
cycle model."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest

from hwgen.backends import golden
from hwgen.backends.cosim import CosimBackend
from hwgen.build import Build
from hwgen.builder import compile_build
from hwgen.compiler import CompileOptions
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize

NETWORKS: dict[str, tuple[Callable[[], onnx.ModelProto], tuple[int, ...], int]] = {
    "mlp": (networks.mlp, networks.MLP_INPUT, 96),
    "mlp_matmul_add": (networks.mlp_matmul_add, networks.MLP_INPUT, 96),
    "cnn": (networks.cnn, networks.CNN_INPUT, 1536),
    "segmenter": (networks.segmenter, networks.SEGMENTER_INPUT, 1024),
}

CASES = [
    *itertools.product(["mlp", "cnn"], list(Format), [False, True], [4, 8]),
    # linear layers as transformers write them: the NPU's product, the host's broadcast add
    ("mlp_matmul_add", Format.QOPERATOR, True, 4),
    ("mlp_matmul_add", Format.QDQ, False, 8),
    # an FPN-style head: bilinear (channels-last in onnxruntime; float32 between DQ and Q in
    # QDQ) and nearest Resize on the host between NPU convolutions
    ("segmenter", Format.QOPERATOR, True, 8),
    ("segmenter", Format.QDQ, False, 4),
]


@pytest.mark.parametrize(
    ("name", "fmt", "per_channel", "m"),
    CASES,
    ids=[f"{n}-{f.value}-{'pc' if p else 'pt'}-m{m}" for n, f, p, m in CASES],
)
def test_cosim_equals_golden(
    tmp_path: Path, name: str, fmt: Format, per_channel: bool, m: int
) -> None:
    build, shape, l1 = NETWORKS[name]
    model = quantize(build(), shape, fmt, per_channel)
    built, comp = compile_build(model, CompileOptions(array=m, l1=l1), tmp_path / "build")
    rng = np.random.default_rng(m)
    inputs = [{"input": rng.uniform(-1.5, 1.5, size=shape).astype(np.float32)} for _ in range(3)]
    # Random idle and backpressure on every bus channel in half of the runs.
    result = CosimBackend(stall=0.3 if per_channel else 0.0).run(built, inputs)
    for feed, got in zip(inputs, result.outputs, strict=True):
        want = golden.run(built.graph, feed)
        for key, value in want.items():
            np.testing.assert_array_equal(got[key].view(np.uint32), value.view(np.uint32))
    assert comp.npu is not None
    model_cycles = {layer.node: layer.cycles for layer in comp.npu.layers}
    assert result.layer_cycles == model_cycles


@pytest.mark.parametrize("m", [4, 8])
def test_resnet8_cosim_equals_golden(tmp_path: Path, m: int) -> None:
    """The ResNet-8-sized network: one inference, every layer checked, NPU cycles as the
    model predicts and at least 85 % of peak at M = 8."""
    model = quantize(networks.resnet8(), networks.RESNET8_INPUT, Format.QOPERATOR, True)
    built, comp = compile_build(model, CompileOptions(array=m, l1=8192), tmp_path / "build")
    x = np.random.default_rng(m).uniform(-1.5, 1.5, networks.RESNET8_INPUT).astype(np.float32)
    result = CosimBackend().run(built, [{"input": x}])
    want = golden.run(built.graph, {"input": x})
    for key, value in want.items():
        np.testing.assert_array_equal(result.outputs[0][key].view(np.uint32), value.view(np.uint32))
    assert comp.npu is not None
    assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}
    utilization = sum(layer.macs for layer in comp.npu.layers) / (
        sum(result.layer_cycles.values()) * m * m
    )
    if m == 8:
        assert utilization >= 0.85, f"NPU utilization {utilization:.4f} from RTL cycles"


def test_compile_then_sim_fills_rtl_cycles_into_the_report(tmp_path: Path) -> None:
    from hwgen.cli import main

    build, shape, l1 = NETWORKS["cnn"]
    path = tmp_path / "model.onnx"
    onnx.save(quantize(build(), shape, Format.QOPERATOR, True), str(path))
    out = tmp_path / "out"
    assert main(["compile", str(path), "-o", str(out), "--array", "4", "--l1", str(l1)]) == 0
    x = np.random.default_rng(1).uniform(-1.5, 1.5, size=shape).astype(np.float32)
    np.savez(tmp_path / "in.npz", input=x)
    assert (
        main(
            [
                "sim",
                str(out),
                "--inputs",
                str(tmp_path / "in.npz"),
                "--outputs",
                str(tmp_path / "out.npz"),
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    npu = [layer for layer in report["layers"] if layer["placement"] == "npu"]
    assert npu and all(layer["cycles_rtl"] == layer["cycles_model"] for layer in npu)
    assert report["totals"]["npu_cycles_rtl"] == report["totals"]["npu_cycles_model"]
    assert "cycles (RTL)" in (out / "report.html").read_text()
    with np.load(tmp_path / "out.npz") as got:
        want = golden.run(Build.open(out).graph, {"input": x})
        np.testing.assert_array_equal(got["fc"].view(np.uint32), want["fc"].view(np.uint32))


@pytest.mark.parametrize("m", [4, 8])
@pytest.mark.parametrize("dialect", ["deeploy", "nemo"])
@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_integer_dialect_cosim_equals_golden(
    tmp_path: Path, name: str, dialect: str, m: int
) -> None:
    """Deeploy and NEMO networks on the RTL with its shift requant unit."""
    from hwgen.examples import integer_networks as inet

    build, shape = {"cnn": (inet.cnn, inet.CNN_INPUT), "mlp": (inet.mlp, inet.MLP_INPUT)}[name]
    model, _ = build(dialect)
    built, _ = compile_build(model, CompileOptions(array=m, l1=512), tmp_path / "build")
    rng = np.random.default_rng(m)
    inputs = [{"input": rng.integers(-128, 128, size=shape).astype(np.float32)} for _ in range(2)]
    result = CosimBackend().run(built, inputs)
    for feed, got in zip(inputs, result.outputs, strict=True):
        for key, value in golden.run(built.graph, feed).items():
            np.testing.assert_array_equal(got[key], value)


def test_run_cosim_compiles_once_with_every_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hwgen run MODEL --backend cosim: the model is compiled once, in the command, and the
    testbench runs that build; --place reaches it (the node runs on the host, so the RTL counts
    no cycles for it)."""
    import hwgen.builder
    import hwgen.commands.run
    from hwgen.cli import main

    build, shape, l1 = NETWORKS["cnn"]
    path = tmp_path / "model.onnx"
    onnx.save(quantize(build(), shape, Format.QOPERATOR, True), str(path))
    np.savez(tmp_path / "in.npz", input=np.zeros(shape, np.float32))
    compiles = []
    real_compile = hwgen.builder.compile_model
    results = []
    real_backend = hwgen.commands.run.make_backend

    def counting(*args: object, **kwargs: object) -> object:
        compiles.append(args)
        return real_compile(*args, **kwargs)  # type: ignore[arg-type]

    def recording(*args: object, **kwargs: object) -> object:
        backend = real_backend(*args, **kwargs)  # type: ignore[arg-type]
        run = backend.run

        def run_and_keep(*a: object, **k: object) -> object:
            results.append(run(*a, **k))  # type: ignore[arg-type]
            return results[-1]

        backend.run = run_and_keep  # type: ignore[method-assign]
        return backend

    monkeypatch.setattr(hwgen.builder, "compile_model", counting)
    monkeypatch.setattr(hwgen.commands.run, "make_backend", recording)
    argv = ["run", str(path), "--inputs", str(tmp_path / "in.npz")]
    argv += ["--outputs", str(tmp_path / "out.npz"), "--backend", "cosim", "--array", "4"]
    assert main([*argv, "--l1", str(l1), "--place", "pw2_quant=host"]) == 0
    assert len(compiles) == 1
    (result,) = results
    assert "pw2_quant" not in result.layer_cycles
    assert {"conv1_quant", "conv3_quant", "fc_quant"} <= set(result.layer_cycles)
