"""Deeploy's own test networks (../shared/external/deeploy, copied unchanged from its
DeeployTest/Tests) through golden and the c backend, equal to Deeploy's outputs.npz element by
element. Where the folder is absent (a plain clone) the tests skip and say so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import pytest

from hwgen.backends import golden
from hwgen.errors import HwgenError
from hwgen.frontend import Dialect, lower_model
from hwgen.ir.types import DType
from tests.builds import build_of, functional_program

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "external" / "deeploy"
CASES = sorted(p.parent for p in EXTERNAL.glob("**/network.onnx"))
pytestmark = pytest.mark.skipif(not CASES, reason=f"no Deeploy test data at {EXTERNAL}")

# Cases hwgen does not read yet, each with what stops it; every other case must pass.
NOT_YET = {
    "Kernels/Integer/Concat": "int16 inputs (the NPU and its host layers are 8-bit)",
    "Kernels/Integer/GEMM/Batch_RQ": "batched MatMul",
    "Kernels/Integer/GEMM/Regular": "Gemm with a full [M, N] matrix C",
    "Kernels/Integer/GEMM/Regular_RQPerRow": "Gemm with alpha and beta, per-row requantization",
    "Kernels/Integer/Hardswish/Regular": "iHardswish",
    "Kernels/Integer/Hardswish/Regular_RQ": "iHardswish",
    "Kernels/Integer/MatMul/Add": "MatMul + Add of a runtime offset",
    "Kernels/Integer/MatMul/Batch": "MatMul of two runtime tensors",
    "Kernels/Integer/MatMul/Regular": "MatMul of two runtime tensors",
    "Kernels/Integer/MatMul/Regular_RQ": "MatMul of two runtime tensors",
}


def _name(case: Path) -> str:
    return case.relative_to(EXTERNAL).as_posix()


Feed = dict[str, npt.NDArray[np.generic]]


def _case(case: Path) -> tuple[onnx.ModelProto, Feed, list[npt.NDArray[np.generic]]]:
    """The model, its inputs by graph input name (the npz keys follow the graph's order, not
    always its names; initializers listed as inputs take no data, and some files carry the
    weights after the inputs) and the outputs in order."""
    model = onnx.load(str(case / "network.onnx"))
    constant = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in constant]
    with np.load(case / "inputs.npz") as given:
        assert len(given.files) >= len(names), given.files
        feed = {
            name: given[key] for name, key in zip(names, given.files[: len(names)], strict=True)
        }
    with np.load(case / "outputs.npz") as expected:
        outputs = [expected[key] for key in expected.files]
    return model, feed, outputs


def _input_types(feed: Feed) -> dict[str, DType]:
    """Deeploy's runner types each input by its test values: uint8 where they need it."""
    return {n: DType.UINT8 for n, v in feed.items() if v.min() >= 0 and v.max() > 127}


def _typed(graph_types: dict[str, tuple[np.dtype, tuple[int, ...]]], feed: Feed) -> Feed:
    return {n: v.astype(graph_types[n][0]).reshape(graph_types[n][1]) for n, v in feed.items()}


def _assert_equal(model: onnx.ModelProto, got: Feed, expected: list[npt.NDArray[np.generic]]):
    for output, want in zip(model.graph.output, expected, strict=True):
        value = np.asarray(got[output.name]).astype(np.int64).reshape(-1)
        want64 = want.astype(np.int64).reshape(-1)
        assert value.shape == want64.shape, output.name
        differ = np.flatnonzero(value != want64)
        assert differ.size == 0, (
            f"{output.name}: {differ.size} of {value.size} differ, first at {differ[0]}: "
            f"{value[differ[0]]} != Deeploy's {want64[differ[0]]}"
        )


@pytest.mark.parametrize("case", CASES, ids=_name)
def test_golden_equals_deeploy(case: Path) -> None:
    model, feed, expected = _case(case)
    lowering = lower_model(model, input_types=_input_types(feed))
    assert lowering.dialect is Dialect.DEEPLOY
    if _name(case) in NOT_YET:  # refused, cleanly: when the model is read, or when it runs
        if not lowering.errors:
            graph = lowering.graph
            types = {
                n: (graph.type_of(n).dtype.numpy, graph.type_of(n).shape) for n in graph.inputs
            }
            with pytest.raises(HwgenError):
                golden.run(graph, _typed(types, feed))
        return
    assert not lowering.errors, lowering.errors[0]
    graph = lowering.graph
    types = {n: (graph.type_of(n).dtype.numpy, graph.type_of(n).shape) for n in graph.inputs}
    _assert_equal(model, golden.run(graph, _typed(types, feed)), expected)


RUNNABLE = [c for c in CASES if _name(c) not in NOT_YET]


@pytest.mark.parametrize("case", RUNNABLE, ids=_name)
def test_c_backend_equals_deeploy(tmp_path: Path, case: Path) -> None:
    model, feed, expected = _case(case)
    build, _ = build_of(model, tmp_path, array=4, input_types=_input_types(feed))
    graph = build.graph
    types = {n: (graph.type_of(n).dtype.numpy, graph.type_of(n).shape) for n in graph.inputs}
    outputs = functional_program(build).run_checked(_typed(types, feed))
    _assert_equal(model, outputs, expected)
