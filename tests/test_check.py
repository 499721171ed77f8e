"""hwgen check: a short summary by default, each root cause once, the nodes that follow from
them counted apart; every node behind --verbose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hwgen.cli import main

BRANCHES = 130
CHAIN = 16  # Relu nodes after each refused node: refused only because of it


def _wide_unsupported_model() -> onnx.ModelProto:
    """Quantize, dequantize, then 130 Hardmax nodes (no integer lowering), each followed by a
    chain of 16 Relu nodes."""
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="quant"),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"], name="dequant"),
    ]
    outputs = []
    for b in range(BRANCHES):
        nodes.append(helper.make_node("Hardmax", ["d"], [f"soft{b}"], name=f"soft{b}"))
        previous = f"soft{b}"
        for k in range(CHAIN):
            name = f"relu{b}_{k}"
            nodes.append(helper.make_node("Relu", [previous], [name], name=name))
            previous = name
        outputs.append(helper.make_tensor_value_info(previous, TensorProto.FLOAT, [1, 8]))
    graph = helper.make_graph(
        nodes,
        "wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        outputs,
        [
            numpy_helper.from_array(np.array(0.1, np.float32), "s"),
            numpy_helper.from_array(np.array(0, np.int8), "z"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model, full_check=True)
    return model


def test_check_summarises_root_causes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wide.onnx"
    onnx.save(_wide_unsupported_model(), str(path))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) < 15, out
    flat = " ".join(out.split())
    assert "Hardmax" in flat and f"{BRANCHES}" in flat and "soft0" in flat
    assert "has no integer lowering" in flat
    assert f"{BRANCHES * CHAIN:,} nodes refused only because an input" in flat
    assert "relu0_0" not in flat  # no per-node rows by default


def test_check_verbose_lists_every_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rows unfolded
    path = tmp_path / "wide.onnx"
    onnx.save(_wide_unsupported_model(), str(path))
    assert main(["check", str(path), "--verbose"]) == 1
    out = capsys.readouterr().out
    assert "relu129_15" in out and "comes from a node that was not lowered" in out
