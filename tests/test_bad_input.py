"""Every damaged model, input and command line the bad-input issue lists: one `error:` line,
exit 1, no traceback, nothing left behind, in every command; or, where onnxruntime defines the
result, that result."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from hwgen.oracle import onnxruntime_outputs
from tests.fuzz.oracle import Outcome, run_hwgen
from tests.fuzz.seeds import Seed, seeds

QOPERATOR = "cnn-qoperator-per-channel"
QDQ = "cnn-qdq-per-tensor"
TIMEOUT_S = 120


def seed(name: str) -> Seed:
    return next(s for s in seeds() if s.name == name)


def _initializer(model: onnx.ModelProto, name: str) -> onnx.TensorProto:
    return next(t for t in model.graph.initializer if t.name == name)


def _node(model: onnx.ModelProto, name: str) -> onnx.NodeProto:
    return next(n for n in model.graph.node if n.name == name)


def _set(model: onnx.ModelProto, name: str, value: np.ndarray) -> None:
    _initializer(model, name).CopyFrom(numpy_helper.from_array(value, name))


def _set_attr(model: onnx.ModelProto, node: str, attr: str, value: object) -> None:
    n = _node(model, node)
    for a in list(n.attribute):
        if a.name == attr:
            n.attribute.remove(a)
    n.attribute.append(helper.make_attribute(attr, value))


def _short_raw_data(m: onnx.ModelProto) -> None:
    t = _initializer(m, "conv1.w_quantized")
    t.raw_data = t.raw_data[:-5]


def _scale(name: str, value: float) -> Callable[[onnx.ModelProto], None]:
    def mutate(m: onnx.ModelProto) -> None:
        old = numpy_helper.to_array(_initializer(m, name))
        _set(m, name, np.full(old.shape, value, np.float32))

    return mutate


def _zero_point_type(dtype: type) -> Callable[[onnx.ModelProto], None]:
    return lambda m: _set(m, "conv1_zero_point", np.array(0, dtype))


def _no_outputs(m: onnx.ModelProto) -> None:
    del m.graph.output[:]


def _duplicate_names(m: onnx.ModelProto) -> None:
    m.graph.node[2].name = m.graph.node[1].name


def _opsets(version: int | None) -> Callable[[onnx.ModelProto], None]:
    def mutate(m: onnx.ModelProto) -> None:
        if version is None:
            del m.opset_import[:]
        else:
            next(o for o in m.opset_import if o.domain == "").version = version

    return mutate


def _ir_version_0(m: onnx.ModelProto) -> None:
    m.ir_version = 0


def _bogus_domain(m: onnx.ModelProto) -> None:
    _node(m, "pool1").domain = "bogus.domain"


def _rank_5_zero_point(m: onnx.ModelProto) -> None:
    _set(m, "input_zero_point", np.zeros((1, 1, 1, 1, 1), np.int8))


# (label, seed, mutation, words the error line must hold)
MODEL_CASES: list[tuple[str, str, Callable[[onnx.ModelProto], None], str]] = [
    ("raw data shorter than its shape", QOPERATOR, _short_raw_data, "does not decode"),
    ("zero point uint16", QOPERATOR, _zero_point_type(np.uint16), "onnxruntime refuses"),
    ("zero point int16", QOPERATOR, _zero_point_type(np.int16), "onnxruntime refuses"),
    ("zero point float64", QOPERATOR, _zero_point_type(np.float64), "onnxruntime refuses"),
    (
        "per-channel scales of the wrong length",
        QOPERATOR,
        lambda m: _set(m, "conv1.w_scale", np.full(15, 0.01, np.float32)),
        "its scale 'conv1.w_scale' 15",
    ),
    (
        "zero point of shape (0,)",
        QOPERATOR,
        lambda m: _set(m, "conv1.w_zero_point", np.zeros(0, np.int8)),
        "0 values",
    ),
    ("strides 0", QOPERATOR, lambda m: _set_attr(m, "conv1_quant", "strides", [0, 1]), "strides"),
    (
        "pads 100000",
        QOPERATOR,
        lambda m: _set_attr(m, "conv1_quant", "pads", [100_000] * 4),
        "elements",
    ),
    ("pads -3", QOPERATOR, lambda m: _set_attr(m, "conv1_quant", "pads", [-3] * 4), "pads"),
    (
        "dilations -2",
        QOPERATOR,
        lambda m: _set_attr(m, "conv1_quant", "dilations", [-2, -2]),
        "dilations",
    ),
    (
        "dilations 0",
        QOPERATOR,
        lambda m: _set_attr(m, "conv1_quant", "dilations", [0, 1]),
        "dilations",
    ),
    ("group 0", QOPERATOR, lambda m: _set_attr(m, "conv1_quant", "group", 0), "group"),
    ("output scale 1e-45", QOPERATOR, _scale("conv1_scale", 1e-45), "2^-63"),
    ("graph without outputs", QOPERATOR, _no_outputs, "no outputs"),
    ("opset import removed", QOPERATOR, _opsets(None), "opset"),
    ("opset 10000", QOPERATOR, _opsets(10_000), "opset"),
    ("IR version 0", QOPERATOR, _ir_version_0, "IR version"),
    ("duplicate node names", QOPERATOR, _duplicate_names, "same node name"),
    ("standard op in a bogus domain", QOPERATOR, _bogus_domain, "bogus.domain"),
    ("scalar zero point made rank 5", QOPERATOR, _rank_5_zero_point, "shape [1, 1, 1, 1, 1]"),
    ("QDQ bias scale NaN", QDQ, _scale("conv1.b_quantized_scale", float("nan")), "nan"),
    ("QDQ scale 1e30", QDQ, _scale("conv1.relu_scale", 1e30), "2^63"),
    ("QDQ scale 1e-30", QDQ, _scale("conv1.relu_scale", 1e-30), "2^-63"),
    ("QDQ bias scale 1e-45", QDQ, _scale("conv1.b_quantized_scale", 1e-45), "2^-126"),
    (
        "requant multiplier not normal",
        QOPERATOR,
        lambda m: (_scale("input_scale", 2.0**-63)(m), _scale("conv1_scale", 2.0**63)(m)),
        "not a normal float32",
    ),
    ("QDQ scale 0", QDQ, _scale("conv1.w_scale", 0.0), "positive"),
]


def _deeploy_add_missing_input() -> bytes:
    """An integer-dialect Add (Deeploy's, detected by its RequantShift) with an input removed."""
    nodes = [
        helper.make_node("Add", ["x"], ["s"], name="add"),
        helper.make_node("RequantShift", ["s", "mul", "add"], ["y"], name="rq", div=1, signed=1),
    ]
    inits = [
        numpy_helper.from_array(np.array(v, np.float32), n) for n, v in (("mul", 1), ("add", 0))
    ]
    graph = helper.make_graph(
        nodes,
        "add",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])],
        inits,
    )
    return helper.make_model(graph).SerializeToString()


def _commands(work: Path) -> Iterator[list[str]]:
    model, inputs = str(work / "model.onnx"), str(work / "in.npz")
    yield ["check", model]
    yield ["run", model, "--inputs", inputs, "--outputs", str(work / "out.npz")]
    yield ["run", model, "--inputs", inputs, "--outputs", str(work / "out.npz"), "--backend", "c"]
    yield ["compile", model, "-o", str(work / "build")]


def _assert_one_error(outcome: Outcome, words: str, work: Path, before: set[str]) -> None:
    assert outcome.crash is None, outcome.crash
    assert not outcome.warned, outcome.warned
    assert outcome.code == 1, (outcome.code, outcome.out, outcome.err)
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), outcome.err
    assert words.lower() in lines[0].lower(), lines[0]
    assert {p.name for p in work.iterdir()} == before, "output left behind"


def _write(work: Path, model: bytes, inputs: dict[str, np.ndarray]) -> set[str]:
    (work / "model.onnx").write_bytes(model)
    np.savez(work / "in.npz", **inputs)  # type: ignore[arg-type]
    return {p.name for p in work.iterdir()}


@pytest.mark.parametrize(
    ("label", "seed_name", "mutate", "words"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES]
)
def test_damaged_model_is_one_error_in_every_command(
    tmp_path: Path,
    label: str,
    seed_name: str,
    mutate: Callable[[onnx.ModelProto], None],
    words: str,
) -> None:
    base = seed(seed_name)
    model = base.load()
    mutate(model)
    before = _write(tmp_path, model.SerializeToString(), base.inputs)
    for argv in _commands(tmp_path):
        _assert_one_error(run_hwgen(argv, TIMEOUT_S), words, tmp_path, before)


def test_integer_add_with_an_input_removed(tmp_path: Path) -> None:
    x = np.zeros((1, 4), np.float32)
    before = _write(tmp_path, _deeploy_add_missing_input(), {"x": x})
    check, *others = _commands(tmp_path)
    outcome = run_hwgen(check, TIMEOUT_S)  # check lists the node among those it refuses
    assert outcome.code == 1 and outcome.crash is None and not outcome.err, outcome
    assert "missing input 1" in outcome.out
    for argv in others:
        _assert_one_error(
            run_hwgen(argv, TIMEOUT_S), "'add' (Add): missing input 1", tmp_path, before
        )


def test_forced_dialect_contradicted_by_the_graph(tmp_path: Path) -> None:
    before = _write(tmp_path, seed(QOPERATOR).model, seed(QOPERATOR).inputs)
    outcome = run_hwgen(["check", str(tmp_path / "model.onnx"), "--dialect", "nemo"], TIMEOUT_S)
    _assert_one_error(outcome, "QuantizeLinear) is onnxruntime's", tmp_path, before)


UNWRITABLE = "/sys/hwgen-test"  # refused to every user, root included


@pytest.mark.parametrize(
    ("label", "argv", "words"),
    [
        ("build under a file", ["compile", "{model}", "-o", "{file}/build"], "cannot write"),
        ("build in an unwritable place", ["compile", "{model}", "-o", UNWRITABLE], UNWRITABLE),
        (
            "outputs under a file",
            ["run", "{model}", "--inputs", "{inputs}", "--outputs", "{file}/out.npz"],
            "does not exist",
        ),
        (
            "outputs unwritable",
            ["run", "{model}", "--inputs", "{inputs}", "--outputs", UNWRITABLE + "/out.npz"],
            "does not exist",
        ),
        (
            "outputs naming a directory",
            ["run", "{model}", "--inputs", "{inputs}", "--outputs", "{dir}"],
            "is a directory",
        ),
        ("usage mistake", ["compile", "{model}", "--array", "eight"], "invalid int value"),
        ("no command", [], "required"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith(("[", "{")) else "",
)
def test_unusable_command_line_is_one_error(
    tmp_path: Path, label: str, argv: list[str], words: str
) -> None:
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir").mkdir()
    before = _write(tmp_path, seed(QOPERATOR).model, seed(QOPERATOR).inputs)
    names = {
        "model": tmp_path / "model.onnx",
        "inputs": tmp_path / "in.npz",
        "file": tmp_path / "afile",
        "dir": tmp_path / "adir",
    }
    outcome = run_hwgen([a.format(**names) for a in argv], TIMEOUT_S)
    _assert_one_error(outcome, words, tmp_path, before)
    assert not any((tmp_path / "adir").iterdir())


def _assert_run_equals_onnxruntime(
    work: Path, model: onnx.ModelProto, inputs: dict[str, np.ndarray], backend: str
) -> None:
    """`hwgen run` of the model and inputs written in `work` succeeds, prints no warning, and
    its outputs are onnxruntime's, bit for bit."""
    out = work / "out.npz"
    argv = ["run", str(work / "model.onnx"), "--inputs", str(work / "in.npz")]
    outcome = run_hwgen([*argv, "--outputs", str(out), "--backend", backend], TIMEOUT_S)
    assert outcome.code == 0 and outcome.crash is None, (outcome.err, outcome.crash)
    assert not outcome.warned, outcome.warned
    want = onnxruntime_outputs(model, inputs)
    with np.load(out) as got:
        for name, value in want.items():
            np.testing.assert_array_equal(got[name], value)


@pytest.mark.parametrize("special", ["nan", "inf", "-inf", "one nan"])
@pytest.mark.parametrize("backend", ["golden", "c"])
def test_special_float_inputs_equal_onnxruntime(tmp_path: Path, backend: str, special: str) -> None:
    """QuantizeLinear of NaN gives the type's lowest value in onnxruntime; of ±inf, its bounds."""
    base = seed(QOPERATOR)
    x = base.inputs["input"].copy()
    if special == "one nan":
        x.reshape(-1)[7] = np.nan
    else:
        x[...] = np.float32(special)
    _write(tmp_path, base.model, {"input": x})
    _assert_run_equals_onnxruntime(tmp_path, base.load(), {"input": x}, backend)


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_027")
def test_outputs_get_the_users_umask(tmp_path: Path) -> None:
    base = seed(QOPERATOR)
    _write(tmp_path, base.model, base.inputs)
    model, out, build = tmp_path / "model.onnx", tmp_path / "out.npz", tmp_path / "build"
    for argv in (
        ["run", str(model), "--inputs", str(tmp_path / "in.npz"), "--outputs", str(out)],
        ["compile", str(model), "-o", str(build)],
    ):
        outcome = run_hwgen(argv, TIMEOUT_S)
        assert outcome.code == 0, outcome.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert stat.S_IMODE(build.stat().st_mode) == 0o750


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("conv1_scale", 2.0**-40),
        ("conv1_scale", 2.0**40),
        ("conv1.w_scale", 2.0**-40),
        ("input_scale", 2.0**40),
        ("add2_scale", 2.0**-40),
        ("fc_scale", 2.0**40),
    ],
)
@pytest.mark.parametrize("backend", ["golden", "c"])
def test_scales_at_the_edges_equal_onnxruntime(
    tmp_path: Path, backend: str, name: str, value: float
) -> None:
    """The extreme scales hwgen still takes give onnxruntime's outputs, bit for bit."""
    base = seed(QOPERATOR)
    model = base.load()
    _scale(name, value)(model)
    _write(tmp_path, model.SerializeToString(), base.inputs)
    _assert_run_equals_onnxruntime(tmp_path, model, base.inputs, backend)
