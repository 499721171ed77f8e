"""The hwgen command: bad input gets one clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from hwgen.cli import main
from hwgen.examples import integer_networks as inet
from tests.single_node import single_node_model


def _qconv_model() -> onnx.ModelProto:
    x = np.zeros((1, 2, 4, 4), np.int8)
    consts = {
        "xs": np.float32(0.5),
        "xz": np.int8(1),
        "w": np.ones((2, 2, 1, 1), np.int8),
        "ws": np.float32(0.25),
        "wz": np.int8(0),
        "ys": np.float32(1.0),
        "yz": np.int8(-3),
    }
    return single_node_model(
        "QLinearConv",
        {"x": x},
        {k: np.asarray(v) for k, v in consts.items()},
        ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"],
    )


def _with_softmax() -> onnx.ModelProto:
    """A supported conv followed by an op hwgen has no integer form of."""
    model = _qconv_model()
    model.graph.node.append(helper.make_node("DequantizeLinear", ["y", "ys", "yz"], ["yf"]))
    model.graph.node.append(helper.make_node("Hardmax", ["yf"], ["z"], name="probabilities"))
    model.graph.output[0].name = "z"
    return model


def _save(model: onnx.ModelProto, tmp_path: Path, name: str = "model.onnx") -> str:
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _error_line(err: str) -> str:
    text = " ".join(err.split())
    assert "Traceback" not in text
    assert text.startswith("error:"), text
    return text


def test_check_supported_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", _save(_qconv_model(), tmp_path))
    assert code == 0
    assert "QLinearConv" in out and "all nodes supported" in out


def test_check_unsupported_op_names_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "check", _save(_with_softmax(), tmp_path))
    assert code == 1
    flat = " ".join(out.split())
    assert "probabilities" in flat and "Hardmax has no integer lowering" in flat


def test_run_unsupported_op_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _with_softmax()
    inputs = tmp_path / "in.npz"
    np.savez(inputs, x=np.zeros((1, 2, 4, 4), np.int8))
    out = tmp_path / "out.npz"
    code, _, err = _run(
        capsys, "run", _save(model, tmp_path), "--inputs", str(inputs), "--outputs", str(out)
    )
    assert code == 1
    assert "node 'probabilities' (Hardmax)" in _error_line(err)
    assert not out.exists()


def test_bad_input_type_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _save(inet.mlp("deeploy")[0], tmp_path)
    code, _, err = _run(capsys, "check", model, "--input-type", "input=int16")
    assert code == 1
    assert "--input-type input=int16: expected INPUT=TYPE with TYPE one of int8, uint8" in (
        _error_line(err)
    )
    code, _, err = _run(capsys, "check", model, "--input-type", "nothing=uint8")
    assert code == 1
    assert "--input-type names ['nothing']" in _error_line(err)


def test_directory_as_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "check", str(tmp_path))
    assert code == 1
    assert f"'{tmp_path}' is a directory: give the ONNX file inside it" in _error_line(err)


def test_float_only_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        "float",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    code, _, err = _run(capsys, "check", _save(model, tmp_path))
    assert code == 1
    assert "float-only graph" in _error_line(err)


def test_dynamic_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _qconv_model()
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    dim.ClearField("dim_value")
    dim.dim_param = "batch"
    code, _, err = _run(capsys, "check", _save(model, tmp_path))
    assert code == 1
    line = _error_line(err)
    assert "graph input 'x'" in line and "dynamic dimension 'batch'" in line


def test_missing_initializer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _qconv_model()
    kept = [i for i in model.graph.initializer if i.name != "ws"]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    code, _, err = _run(capsys, "check", _save(model, tmp_path))
    assert code == 1
    line = _error_line(err)
    assert "node 'node' (QLinearConv)" in line and "'ws'" in line and "missing initializer" in line


def test_corrupt_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(_qconv_model().SerializeToString()[:57] + b"\xff\xfe garbage")
    code, _, err = _run(capsys, "check", str(path))
    assert code == 1
    assert "broken.onnx" in _error_line(err)


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "check", str(tmp_path / "nope.onnx"))
    assert code == 1
    assert "no such file" in _error_line(err)


def test_runtime_scale_is_refused_with_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _qconv_model()
    kept = [i for i in model.graph.initializer if i.name != "ys"]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    model.graph.input.append(helper.make_tensor_value_info("ys", TensorProto.FLOAT, []))
    code, out, _ = _run(capsys, "check", _save(model, tmp_path))
    assert code == 1
    assert "must be a constant" in " ".join(out.split())


def test_run_golden_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model_path = _save(_qconv_model(), tmp_path)
    x = np.arange(32, dtype=np.int8).reshape(1, 2, 4, 4)
    np.savez(tmp_path / "in.npz", x=x)
    code, _, _ = _run(
        capsys,
        "run",
        model_path,
        "--inputs",
        str(tmp_path / "in.npz"),
        "--outputs",
        str(tmp_path / "out.npz"),
        "--backend",
        "golden",
    )
    assert code == 0
    with np.load(tmp_path / "out.npz") as out:
        y = out["y"]
    # Independent arithmetic: y = rne(sum_c (x - 1) * 0.5 * 0.25 / 1) - 3, saturated.
    expect = np.clip(np.rint((x.astype(np.int64) - 1).sum(axis=1) * 0.125) - 3, -128, 127)
    assert y.dtype == np.int8
    assert np.array_equal(y[0, 0], expect[0]) and np.array_equal(y[0, 1], expect[0])


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ({"x": np.zeros((1, 2, 4, 4), np.uint8)}, "input 'x' is uint8, the graph wants int8"),
        ({"x": np.zeros((1, 2, 4, 5), np.int8)}, "has shape [1, 2, 4, 5]"),
        ({"q": np.zeros((1, 2, 4, 4), np.int8)}, "missing input(s) ['x']"),
    ],
)
def test_run_bad_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], feeds: dict, message: str
) -> None:
    np.savez(tmp_path / "in.npz", **feeds)
    out = tmp_path / "out.npz"
    code, _, err = _run(
        capsys,
        "run",
        _save(_qconv_model(), tmp_path),
        "--inputs",
        str(tmp_path / "in.npz"),
        "--outputs",
        str(out),
    )
    assert code == 1
    assert message in _error_line(err)
    assert not out.exists()


def test_console_script_exit_code(tmp_path: Path) -> None:
    """The installed entry point, in a fresh process: exit code and stderr as a user sees them."""
    proc = subprocess.run(
        [sys.executable, "-m", "hwgen.cli", "check", str(tmp_path / "absent.onnx")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "no such file" in proc.stderr


def test_run_on_a_board_that_does_not_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pyserial's loop:// echoes the request back: never an answer from a bridge."""
    np.savez(tmp_path / "in.npz", x=np.zeros((1, 2, 4, 4), np.int8))
    out = tmp_path / "out.npz"
    args = ["run", _save(_qconv_model(), tmp_path), "--inputs", str(tmp_path / "in.npz")]
    args += ["--outputs", str(out), "--backend", "board", "--array", "4"]
    code, _, err = _run(capsys, *args)
    assert code == 1 and "needs --port" in _error_line(err)
    code, _, err = _run(capsys, *args, "--port", "loop://")
    assert code == 1
    assert "board on loop://: HELLO: no answer, 9 times" in _error_line(err)
    assert not out.exists()


def test_fpga_needs_a_compiled_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "fpga", str(tmp_path), "--board", "ulx3s")
    assert code == 1
    assert "is not a directory written by hwgen compile" in _error_line(err)
