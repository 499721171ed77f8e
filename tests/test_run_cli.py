"""hwgen run: a model is compiled once, in the command, before any backend starts; what the
compile refuses is one line, at once, with no simulator built."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
import pytest

import hwgen.sim.runner
from hwgen import extras
from hwgen.cli import main
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize


def _simulator_built(*_: object, **__: object) -> None:
    raise AssertionError("a simulator was built for a model the compile refuses")


@pytest.mark.skipif(bool(extras.missing("sim")), reason="needs hwgen[sim]")
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--place", "pool1=npu"], "node 'pool1' (maxpool): cannot place on the NPU"),
        (["--place", "nothing=host"], "--place names no node of the graph: nothing"),
        (["--l1", "64"], "cannot be tiled into L1 = 64 bytes"),
    ],
)
def test_cosim_of_a_refused_model_is_one_line_at_once(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    expected: str,
) -> None:
    monkeypatch.setattr(hwgen.sim.runner, "run_cocotb_sources", _simulator_built)
    path = tmp_path / "model.onnx"
    onnx.save(quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, True), str(path))
    np.savez(tmp_path / "in.npz", input=np.zeros(networks.CNN_INPUT, np.float32))
    began = time.perf_counter()
    code = main(
        [
            "run",
            str(path),
            "--inputs",
            str(tmp_path / "in.npz"),
            "--outputs",
            str(tmp_path / "out.npz"),
            "--backend",
            "cosim",
            *extra,
        ]
    )
    seconds = time.perf_counter() - began
    err = capsys.readouterr().err
    assert code == 1
    text = " ".join(err.split())
    assert text.startswith("error:") and expected in text and "Traceback" not in text, text
    assert len(err.strip().splitlines()) <= 2, err  # one message (folded at most once)
    assert seconds < 10
    assert not (tmp_path / "out.npz").exists()


def test_compile_options_do_not_apply_to_a_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(quantize(networks.mlp(), networks.MLP_INPUT, Format.QOPERATOR, False), str(path))
    out = tmp_path / "out"
    assert main(["compile", str(path), "-o", str(out), "--array", "4"]) == 0
    np.savez(tmp_path / "in.npz", input=np.zeros(networks.MLP_INPUT, np.float32))
    run = ["run", str(out), "--inputs", str(tmp_path / "in.npz")]
    run += ["--outputs", str(tmp_path / "o.npz")]
    assert main([*run, "--backend", "c"]) == 0
    capsys.readouterr()
    assert main([*run, "--array", "8"]) == 1
    assert "is a build, already compiled" in " ".join(capsys.readouterr().err.split())
