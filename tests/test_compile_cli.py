"""`hwgen compile`: what it writes, and that it never leaves a partial or clobbered output."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from hwgen.cli import main
from hwgen.examples import networks
from hwgen.examples.quantize import Format, quantize


@pytest.fixture(scope="module")
def cnn_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("model") / "cnn.onnx"
    onnx.save(quantize(networks.cnn(), networks.CNN_INPUT, Format.QOPERATOR, True), str(path))
    return str(path)


def test_compile_writes_rtl_graphs_and_report(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["compile", cnn_path, "-o", str(out), "--array", "4"]) == 0
    assert (out / "rtl" / "npu_top.sv").is_file() and (out / "rtl" / "files.f").is_file()
    dumps = sorted(p.name for p in (out / "graph").iterdir())
    assert dumps == [
        "00_lowered.onnx",
        "01_synthesize_requant.onnx",
        "02_fuse_requant_shift.onnx",
        "03_fuse_activation.onnx",
        "04_collapse_movement.onnx",
        "05_place.onnx",
        "06_unfold_stem.onnx",
    ]
    onnx.checker.check_model(onnx.load(str(out / "graph" / "05_place.onnx")))
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["array"] == 4
    by_name = {layer["name"]: layer for layer in report["layers"]}
    conv = by_name["pw2_quant"]
    assert conv["placement"] == "npu" and conv["macs"] == 8 * 8 * 16 * 16
    assert conv["cycles_model"] >= conv["macs"] / 16 and 0 < conv["utilization"] <= 1
    assert by_name["dw2_quant"]["placement"] == "host"
    assert report["memory"]["l2_peak_bytes"] > 0
    assert "4 on the NPU" in " ".join(capsys.readouterr().out.split())


def test_compile_for_a_board_takes_its_budget_and_checks_the_fit(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hwgen.boards.targets import board as find_board

    small_board = find_board("ulx3s-25f")
    out = tmp_path / "25f"
    assert main(["compile", cnn_path, "-o", str(out), "--board", "ulx3s-25f"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["array"] == small_board.array == 4
    assert report["config"]["requant_lanes"] == small_board.npu.requant_lanes
    fit = report["board_fit"]
    assert fit["fits"] and fit["block_rams"] <= fit["block_rams_available"]
    assert "fits the ulx3s-25f" in " ".join(capsys.readouterr().out.split())
    # --array and the budget's flags still win over the board's.
    small = tmp_path / "small"
    argv = ["compile", cnn_path, "-o", str(small), "--board", "ulx3s", "--array", "4"]
    assert main([*argv, "--act-kib", "1"]) == 0
    config = json.loads((small / "report.json").read_text())["config"]
    assert (config["array"], config["requant_interval"]) == (4, 1)
    assert config["act_depth"] == 1024 // (2 * 4)


def test_compile_refuses_a_non_empty_directory_without_force(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["compile", cnn_path, "-o", str(out)]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    assert main(["compile", cnn_path, "-o", str(out), "--force", "--array", "2"]) == 0
    assert not (out / "keep.txt").exists() and (out / "report.json").is_file()


def test_failed_compile_leaves_no_output(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["compile", cnn_path, "-o", str(out), "--place", "pool1=npu"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "node 'pool1' (maxpool): cannot place on the NPU" in err
    assert not out.exists()
    assert not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir())


def test_an_npu_too_large_for_the_board_is_refused_at_compile(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "big"
    args = ["compile", cnn_path, "-o", str(out), "--board", "ulx3s-25f", "--array", "8"]
    assert main(args) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "does not fit the ULX3S (ECP5 LFE5U-25F)" in err and "multipliers of 28" in err
    assert not out.exists()


def test_a_board_that_cannot_host_the_npu_is_refused(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ice"
    assert main(["compile", cnn_path, "-o", str(out), "--board", "icebreaker"]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "iCEBreaker (iCE40UP5K) cannot host hwgen's NPU" in err and "--board ulx3s" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--array", "6"], "--array 6: the array size must be one of"),
        (["--place", "conv1_quant"], "expected NODE=host or NODE=npu"),
        (["--requant", "shift"], "this network's requantization is the ort rule"),
    ],
)
def test_bad_options(
    cnn_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["compile", cnn_path, "-o", str(tmp_path / "out"), *args]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
