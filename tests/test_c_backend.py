"""The c backend: the generated host C (built with -Wall -Wextra -Werror) with a functional NPU
behind its HAL equals the golden model on every layer, with multi-tile DMA on the host layers;
a corrupted value is reported as layer, tile, element, expected, got."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from hwgen.backends import golden
from hwgen.backends.functional_npu import FunctionalNpu
from hwgen.backends.host import build_library, host_library
from hwgen.backends.host_program import BitMismatchError, HostProgram
from hwgen.build import Build
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize
from hwgen.frontend import lower_or_raise
from tests.builds import build_of, functional_program
from tests.conftest import ort_run
from tests.single_node import (
    MS,
    check_against_onnxruntime,
    qlinear_softmax_model,
    single_node_model,
)

# L1 sizes small enough that the large host layers run in several tiles.
NETWORKS: dict[str, tuple[Callable[[], onnx.ModelProto], tuple[int, ...], int]] = {
    "mlp": (networks.mlp, networks.MLP_INPUT, 96),
    "mlp_matmul_add": (networks.mlp_matmul_add, networks.MLP_INPUT, 96),
    "cnn": (networks.cnn, networks.CNN_INPUT, 1536),
    "resnet8": (networks.resnet8, networks.RESNET8_INPUT, 4096),
    "segmenter": (networks.segmenter, networks.SEGMENTER_INPUT, 1024),
}


@cache
def model(name: str, fmt: Format, per_channel: bool) -> onnx.ModelProto:
    build, shape, _ = NETWORKS[name]
    return quantize(build(), shape, fmt, per_channel)


def _build(tmp: Path, name: str, fmt: Format, per_channel: bool, m: int) -> Build:
    return build_of(model(name, fmt, per_channel), tmp, array=m, l1=NETWORKS[name][2])[0]


def _inputs(name: str, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = NETWORKS[name][1]
    return [rng.uniform(-1.5, 1.5, size=shape).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("m", [4, 8])
@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
@pytest.mark.parametrize("name", ["mlp", "mlp_matmul_add", "cnn", "segmenter"])
def test_c_backend_equals_golden(
    tmp_path: Path, name: str, fmt: Format, per_channel: bool, m: int
) -> None:
    built = _build(tmp_path, name, fmt, per_channel, m)
    program = functional_program(built)
    for x in _inputs(name, 3, seed=m):
        got = program.run_checked({"input": x})  # every layer is compared as it is produced
        want = golden.run(built.graph, {"input": x})
        for key, value in want.items():
            np.testing.assert_array_equal(got[key].view(np.uint32), value.view(np.uint32))


@pytest.mark.parametrize("m", [4, 8])
def test_resnet8_c_backend_equals_golden(tmp_path: Path, m: int) -> None:
    built = _build(tmp_path, "resnet8", Format.QOPERATOR, True, m)
    program = functional_program(built)
    for x in _inputs("resnet8", 2, seed=m):
        got = program.run_checked({"input": x})
        want = golden.run(built.graph, {"input": x})
        np.testing.assert_array_equal(got["fc"].view(np.uint32), want["fc"].view(np.uint32))


def test_layers_of_several_programs_count_every_program(tmp_path: Path) -> None:
    """A command memory of 8: each convolution of ResNet-8 runs as several programs, and the
    layer's cycles, as the driver sums the NPU's counters, are the cycle model's."""
    from hwgen.backends.c import CBackend

    built, comp = build_of(
        model("resnet8", Format.QOPERATOR, True), tmp_path, array=8, l1=4096, commands=8
    )
    assert comp.npu is not None and comp.image is not None
    programs = {node: len(layer.programs) for node, layer in comp.image.layers.items()}
    assert sum(count > 1 for count in programs.values()) == 9, programs  # all but the fc
    result = CBackend().run(built, [{"input": x} for x in _inputs("resnet8", 1, seed=3)])
    assert result.layer_cycles == {layer.node: layer.cycles for layer in comp.npu.layers}


def test_large_host_layers_run_in_several_tiles(tmp_path: Path) -> None:
    built = _build(tmp_path, "cnn", Format.QOPERATOR, True, 8)
    tiles = {
        layer.node: -(
            -layer.layout.h
            * layer.layout.w
            * layer.layout.c
            // (layer.row_elements * layer.rows_per_tile)
        )
        for layer in built.network.layers
        if layer.rows_per_tile and layer.row_elements
    }
    for name in (
        "input_QuantizeLinear",
        "pool1_quant" if "pool1_quant" in tiles else "pool1",
        "dw2_quant",
        "add2_quant",
        "pool2_quant",
    ):
        assert tiles[name] > 1, tiles


def test_corrupted_npu_result_is_reported(tmp_path: Path) -> None:
    """One byte of what the NPU wrote for its second layer is changed in system memory: the
    check names the layer, one element, what was expected and what came."""
    built, comp = build_of(model("cnn", Format.QOPERATOR, True), tmp_path, array=4, l1=1536)
    assert comp.image is not None
    npu = FunctionalNpu(built.config)
    start = npu._start
    programs: list[int] = []
    second = comp.npu.layers[1] if comp.npu else None
    assert second is not None and second.node == "pw2_quant"
    target = comp.storage[comp.graph.node("pw2_quant").outputs[0]].npu
    assert target is not None and comp.memory is not None
    address = comp.image.l2_base + comp.memory.offset(target.buffer)

    def corrupt() -> None:
        start()
        programs.append(npu.prog_addr)
        if npu.prog_addr in [p.address for p in comp.image.layers["pw2_quant"].programs]:
            npu.sysmem[address + 5] ^= 0x01

    npu._start = corrupt  # type: ignore[method-assign]
    program = HostProgram(host_library(built.network), built.network, built.graph, npu)
    with pytest.raises(BitMismatchError) as caught:
        program.run_checked({"input": _inputs("cnn", 1, seed=0)[0]})
    mismatch = caught.value.mismatch
    assert mismatch.layer == "pw2_quant" and mismatch.count == 1
    assert "layer 'pw2_quant', tile 0, element [" in str(caught.value)
    assert int(mismatch.got) ^ int(mismatch.expected) != 0  # type: ignore[call-overload]


def test_corrupted_host_constant_is_reported_with_its_tile(tmp_path: Path) -> None:
    built = _build(tmp_path, "cnn", Format.QOPERATOR, True, 4)
    source = built.network.directory / "network.c"
    text = source.read_text()
    index = next(k for k, layer in enumerate(built.network.layers) if layer.node == "dw2_quant")
    marker = f"static const int32_t layer{index}_bias[] = {{ "
    start = text.index(marker) + len(marker)
    first = text[start : text.index(",", start)]
    source.write_text(text[:start] + str(int(first) + 100000) + text[text.index(",", start) :])
    library = build_library(built.network, tmp_path / "corrupt.so")
    program = HostProgram(library, built.network, built.graph, FunctionalNpu(built.config))
    with pytest.raises(BitMismatchError) as caught:
        program.run_checked({"input": _inputs("cnn", 1, seed=0)[0]})
    mismatch = caught.value.mismatch
    assert mismatch.layer == "dw2_quant"
    assert mismatch.element[1] == 0  # output channel 0 took the corrupted bias
    layer = next(layer for layer in built.network.layers if layer.node == "dw2_quant")
    assert layer.rows_per_tile < layer.layout.h  # several tiles, and the report names one


def test_build_in_a_relative_directory_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hwgen demo` and `hwgen compile -o out` name the build relative to the working directory;
    the C compiler runs inside the build, so it must not see those names relative to itself."""
    monkeypatch.chdir(tmp_path)
    built = build_of(model("cnn", Format.QOPERATOR, True), Path("relative"), array=4, l1=1536)[0]
    assert not built.network.directory.is_absolute()
    library = build_library(built.network, Path("relative.so"))
    program = HostProgram(library, built.network, built.graph, FunctionalNpu(built.config))
    program.run_checked({"input": _inputs("cnn", 1, seed=0)[0]})


def test_generated_c_runs_clean_under_sanitizers(tmp_path: Path) -> None:
    """AddressSanitizer and UndefinedBehaviorSanitizer over a whole run, in a process that
    preloads the ASan runtime (Python itself is not instrumented)."""
    built = _build(tmp_path, "cnn", Format.QOPERATOR, True, 4)
    runtime = subprocess.run(
        ["cc", "-print-file-name=libasan.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not Path(runtime).exists():
        pytest.fail(f"the compiler has no ASan runtime ({runtime})")
    script = textwrap.dedent(f"""
        from hwgen.build import Build
        from tests.builds import functional_program
        from tests.test_c_backend import _inputs
        program = functional_program(Build.open({str(built.directory)!r}), sanitize=True)
        for x in _inputs("cnn", 2, seed=3):
            program.run_checked({{"input": x}})
        print("sanitized run ok")
    """)
    env = {
        **os.environ,
        "LD_PRELOAD": runtime,
        "ASAN_OPTIONS": "detect_leaks=0",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0 and "sanitized run ok" in proc.stdout, proc.stderr[-3000:]
    assert "runtime error" not in proc.stderr, proc.stderr[-3000:]


def _c_equals_golden(tmp: Path, onnx_model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> None:
    built, _ = build_of(onnx_model, tmp, array=4, l1=256)
    got = functional_program(built).run_checked(feeds)
    want = golden.run(lower_or_raise(onnx_model), feeds)
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value)


@pytest.mark.parametrize("constant_is_a", [True, False], ids=["constant-a", "constant-b"])
@pytest.mark.parametrize("constant_shape", [(3, 1, 1), (5,), (1, 1, 4, 5)])
def test_host_add_of_a_broadcast_constant(
    tmp_path: Path, constant_shape: tuple[int, ...], constant_is_a: bool
) -> None:
    """QLinearAdd of a runtime tensor and a constant that broadcasts to it, either side of the
    add (the rule's fused multiply-adds treat a and b differently): the c backend equals golden,
    and golden equals onnxruntime."""
    rng = np.random.default_rng(len(constant_shape) + 10 * constant_is_a)
    x = rng.integers(-128, 128, size=(1, 3, 4, 5), dtype=np.int8)
    consts = {
        "k": rng.integers(-128, 128, size=constant_shape, dtype=np.int8),
        "xs": np.array(0.05, np.float32),
        "xz": np.array(3, np.int8),
        "ks": np.array(0.02, np.float32),
        "kz": np.array(-5, np.int8),
        "ys": np.array(0.07, np.float32),
        "yz": np.array(1, np.int8),
    }
    a, b = (
        (["k", "ks", "kz"], ["x", "xs", "xz"])
        if constant_is_a
        else (["x", "xs", "xz"], ["k", "ks", "kz"])
    )
    model = single_node_model("QLinearAdd", {"x": x}, consts, [*a, *b, "ys", "yz"], domain=MS)
    check_against_onnxruntime(model, {"x": x})
    _c_equals_golden(tmp_path, model, {"x": x})


@pytest.mark.parametrize(("rank", "axis"), [(4, 1), (4, 2), (4, 3), (4, -1), (2, 1), (2, 0)])
def test_host_concat(tmp_path: Path, rank: int, axis: int) -> None:
    rng = np.random.default_rng(axis + 10 * rank)
    shapes = [(1, 2, 3, 4), (1, 2, 3, 4)] if rank == 4 else [(3, 5), (3, 5)]
    feeds = {f"x{i}": rng.integers(-128, 128, size=s, dtype=np.int8) for i, s in enumerate(shapes)}
    feeds["x1"] = (
        np.concatenate([feeds["x1"]] * 2, axis=axis)[: feeds["x1"].shape[0]]
        if (rank == 4 or axis == 1)
        else feeds["x1"]
    )
    _c_equals_golden(
        tmp_path, single_node_model("Concat", feeds, {}, list(feeds), axis=axis), feeds
    )


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((1, 3, 4, 5), (1, 3, 1, 1)), ((1, 3, 1, 1), (1, 3, 4, 5)), ((1, 3, 4, 5), (1, 3, 4, 5))],
)
def test_host_qlinearmul_broadcasting(
    tmp_path: Path, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(sum(a_shape) + 3 * sum(b_shape))
    feeds = {
        "a": rng.integers(-128, 128, a_shape, dtype=np.int8),
        "b": rng.integers(-128, 128, b_shape, dtype=np.int8),
    }
    consts = {
        "sa": np.array(0.031, np.float32),
        "za": np.array(-4, np.int8),
        "sb": np.array(0.0078125, np.float32),
        "zb": np.array(-128, np.int8),
        "sy": np.array(0.02, np.float32),
        "zy": np.array(6, np.int8),
    }
    order = ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"]
    model = single_node_model("QLinearMul", feeds, consts, order, domain=MS)
    check_against_onnxruntime(model, feeds)
    _c_equals_golden(tmp_path, model, feeds)


@pytest.mark.parametrize(("length", "x_scale"), [(1000, 0.09), (1, 1.0), (3, 2.0)])
@pytest.mark.parametrize("dt", [np.int8, np.uint8])
def test_host_softmax(tmp_path: Path, dt: type, length: int, x_scale: float) -> None:
    """A classifier's row, and rows so short that the kernel's float32 overflows."""
    info = np.iinfo(dt)
    x = np.random.default_rng(9).integers(info.min, info.max, (2, length), dtype=dt)
    consts = {
        "xs": np.array(x_scale, np.float32),
        "xz": np.array(0, dt),
        "ys": np.array(1 / 256, np.float32),
        "yz": np.array(0 if dt is np.uint8 else -128, dt),
    }
    model = qlinear_softmax_model({"x": x}, consts)
    check_against_onnxruntime(model, {"x": x})
    _c_equals_golden(tmp_path, model, {"x": x})


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_host_split(tmp_path: Path, axis: int) -> None:
    x = np.random.default_rng(axis + 5).integers(-128, 128, size=(1, 6, 4, 6), dtype=np.int8)
    sizes = {"split": np.array({1: [2, 4], 2: [1, 3], -1: [1, 2, 3]}[axis], np.int64)}
    model = single_node_model("Split", {"x": x}, sizes, ["x", "split"], opset=13, axis=axis)
    outputs = [f"y{k}" for k in range(len(sizes["split"]))]
    model.graph.node[0].output[:] = outputs
    del model.graph.output[:]
    model.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in outputs)
    want = ort_run(model, {"x": x})
    got = golden.run(lower_or_raise(model), {"x": x})
    for name in outputs:
        np.testing.assert_array_equal(got[name], want[name])
    _c_equals_golden(tmp_path, model, {"x": x})


@pytest.mark.parametrize("groups", [2, 3])
def test_host_channel_shuffle(tmp_path: Path, groups: int) -> None:
    """ShuffleNet's Reshape -> Transpose -> Reshape through five axes: one gather on the host,
    walked by strided loops."""
    x = np.random.default_rng(groups).integers(-128, 128, size=(1, 6, 2, 3), dtype=np.int8)
    shapes = {
        "split": np.array([1, groups, 6 // groups, 2, 3], np.int64),
        "back": np.array([1, 6, 2, 3], np.int64),
    }
    nodes = [
        helper.make_node("Reshape", ["x", "split"], ["s"], name="split"),
        helper.make_node("Transpose", ["s"], ["t"], name="swap", perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t", "back"], ["y"], name="back"),
    ]
    graph = helper.make_graph(
        nodes,
        "shuffle",
        [helper.make_tensor_value_info("x", onnx.TensorProto.INT8, list(x.shape))],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT8, list(x.shape))],
        [numpy_helper.from_array(v, k) for k, v in shapes.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    check_against_onnxruntime(model, {"x": x})
    built, _ = build_of(model, tmp_path, array=4, l1=256)
    assert [n.op.value for n in built.graph.nodes] == ["gather"]
    _c_equals_golden(tmp_path / "c", model, {"x": x})


@pytest.mark.parametrize("dt", [np.int8, np.uint8])
def test_host_requantizing_concat(tmp_path: Path, dt: type) -> None:
    """QLinearConcat whose inputs are quantized apart from its output: the table on the host."""
    rng = np.random.default_rng(7)
    info = np.iinfo(dt)
    feeds = {
        f"x{i}": rng.integers(info.min, info.max, (1, 2 + i, 3, 4), dtype=dt) for i in range(3)
    }
    consts = {
        "ys": np.array(0.05, np.float32),
        "yz": np.array(info.min + 9, dt),
        "s0": np.array(0.11, np.float32),
        "z0": np.array(info.max - 3, dt),
        "s2": np.array(0.013, np.float32),
        "z2": np.array(info.min + 40, dt),
    }
    order = ["ys", "yz", "x0", "s0", "z0", "x1", "ys", "yz", "x2", "s2", "z2"]
    model = single_node_model("QLinearConcat", feeds, consts, order, domain=MS, axis=1)
    check_against_onnxruntime(model, feeds)
    _c_equals_golden(tmp_path, model, feeds)


@pytest.mark.parametrize("perm", [(0, 1, 3, 2), (0, 2, 3, 1), (0, 3, 1, 2), (0, 2, 1, 3)])
def test_host_transpose(tmp_path: Path, perm: tuple[int, ...]) -> None:
    x = np.random.default_rng(1).integers(-128, 128, size=(1, 3, 4, 5), dtype=np.int8)
    model = single_node_model("Transpose", {"x": x}, {}, ["x"], perm=list(perm))
    _c_equals_golden(tmp_path, model, {"x": x})


def test_host_transpose_matrix(tmp_path: Path) -> None:
    x = np.random.default_rng(2).integers(0, 256, size=(6, 7), dtype=np.uint8)
    _c_equals_golden(tmp_path, single_node_model("Transpose", {"x": x}, {}, ["x"]), {"x": x})


def test_host_pad(tmp_path: Path) -> None:
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 3, 4, 5), dtype=np.int8)
    pads = np.array([0, 1, 2, 1, 0, 2, 0, 3], np.int64)
    model = single_node_model(
        "Pad", {"x": x}, {"p": pads, "v": np.array(-7, np.int8)}, ["x", "p", "v"]
    )
    _c_equals_golden(tmp_path, model, {"x": x})


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_uint8_activations_equal_golden(tmp_path: Path, name: str) -> None:
    """onnxruntime's default: uint8 activations. They enter the NPU as x - 128."""
    build, shape, l1 = NETWORKS[name]
    onnx_model = quantize(build(), shape, Format.QOPERATOR, True, unsigned_activations=True)
    built, comp = build_of(onnx_model, tmp_path, array=4, l1=l1)
    assert comp.npu is not None and comp.npu.layers
    assert all(plan.layer.flip_sign for plan in comp.npu.layers)
    program = functional_program(built)
    for x in _inputs(name, 3, seed=11):
        got = program.run_checked({"input": x})
        want = golden.run(lower_or_raise(onnx_model), {"input": x})
        for key, value in want.items():
            np.testing.assert_array_equal(got[key].view(np.uint32), value.view(np.uint32))


@pytest.mark.parametrize(
    ("shape", "starts", "ends", "axes", "steps"),
    [
        ((1, 6, 5, 7), [1, -1, 0], [5, -6, 7], [1, 2, 3], [2, -1, 3]),  # channels, rows, columns
        ((1, 6, 9), [-2, 1], [-7, 8], [1, 2], [-1, 2]),  # [1, C, L], stored as an image
        ((5, 8), [1, 7], [4, 0], [0, 1], [1, -2]),  # a matrix, rows x features
    ],
    ids=["nchw", "ncl", "matrix"],
)
def test_slice_on_the_host(
    tmp_path: Path,
    shape: tuple[int, ...],
    starts: list[int],
    ends: list[int],
    axes: list[int],
    steps: list[int],
) -> None:
    """Slice in the host C: a strided walk of the input's storage (NHWC for images)."""
    x = np.random.default_rng(4).integers(-128, 128, size=shape, dtype=np.int8)
    consts = {
        name: np.array(values, np.int64)
        for name, values in (("s", starts), ("e", ends), ("a", axes), ("t", steps))
    }
    model = single_node_model("Slice", {"x": x}, consts, ["x", "s", "e", "a", "t"], opset=13)
    built = build_of(model, tmp_path, array=4)[0]
    (got,) = functional_program(built).run_checked({"x": x}).values()
    picks = [slice(None)] * len(shape)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        picks[axis] = slice(start, end, step)
    np.testing.assert_array_equal(got, x[tuple(picks)])
