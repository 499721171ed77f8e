"""DORY's own NEMO-exported networks through golden and the c backend, equal to onnxruntime bit
for bit on their own input images; every per-layer output DORY recorded is one of golden's
tensors, and a mismatch names the first of DORY's layers hwgen does not reproduce. Where the
folder is absent (a plain clone) the tests skip and say so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hwgen.backends import golden
from hwgen.frontend import Dialect, lower_model
from hwgen.ir import Graph
from hwgen.oracle import onnxruntime_outputs
from tests.builds import build_of, functional_program
from tests.dory_data import CASES, MISSING, DoryCase, name_of

pytestmark = pytest.mark.skipif(not CASES, reason=MISSING)


def _bits(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    return array.view(np.uint32) if array.dtype == np.float32 else array


def _tensors(graph: Graph, data: DoryCase) -> dict[str, npt.NDArray[np.generic]]:
    """Every tensor golden computes on the case's input."""
    seen: dict[str, npt.NDArray[np.generic]] = {}
    golden.run(graph, data.feed, lambda node, value: seen.update({node.outputs[0]: value}))
    return seen


def _assert_equal(
    data: DoryCase,
    got: dict[str, npt.NDArray[np.generic]],
    graph: Graph,
) -> None:
    want = onnxruntime_outputs(data.model, data.feed)
    for name, value in want.items():
        if not np.array_equal(_bits(got[name]), _bits(value)):
            first = data.first_layer_not_in(_tensors(graph, data))
            raise AssertionError(
                f"output '{name}' differs from onnxruntime's; the first of DORY's layers "
                f"golden does not reproduce: {first or 'none'}"
            )


@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_golden_equals_onnxruntime(case: Path) -> None:
    data = DoryCase.read(case)
    lowering = lower_model(data.model, input_types=data.input_types)
    assert lowering.dialect is Dialect.NEMO
    assert not lowering.errors, lowering.errors[0]
    _assert_equal(data, golden.run(lowering.graph, data.feed), lowering.graph)


@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_every_dory_layer_is_a_golden_tensor(case: Path) -> None:
    """DORY's per-layer outputs (its fused conv-requant layers, sums, the classifier's int32
    sums), channel-last, each found among golden's tensors on the same input."""
    data = DoryCase.read(case)
    graph = lower_model(data.model, input_types=data.input_types).graph
    assert len(data.layers) > 5
    assert data.first_layer_not_in(_tensors(graph, data)) is None


@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_c_backend_equals_onnxruntime(tmp_path: Path, case: Path) -> None:
    """Every layer is checked against golden as it comes; the NPU runs the layers whose
    requantization chain a shift rule equals (passes/synthesize_requant.py)."""
    data = DoryCase.read(case)
    build, comp = build_of(data.model, tmp_path, array=8, input_types=data.input_types)
    assert any(n.target.value == "npu" for n in comp.graph.nodes)
    got = functional_program(build).run_checked(data.feed)
    _assert_equal(data, got, build.graph)


def test_a_mismatch_names_dorys_layer() -> None:
    """The locator itself: a golden tensor changed by one LSB is no longer found, and DORY's
    layer for it is named."""
    data = DoryCase.read(CASES[0])
    seen = _tensors(lower_model(data.model, input_types=data.input_types).graph, data)
    file, layer = data.layers[1]
    for name in [n for n, t in seen.items() if layer.matches(t)]:
        seen[name] = seen[name] + 1
    first = data.first_layer_not_in(seen)
    assert first is not None and first.startswith(file)
