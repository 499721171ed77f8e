"""Deeploy's own test networks through golden and the c backend, equal to Deeploy's
outputs.npz element by element. Where the folder is absent (a plain clone) the tests skip and
say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwgen.backends import golden
from hwgen.frontend import Dialect, lower_model
from tests.builds import build_of, functional_program
from tests.deeploy_data import CASES, MISSING, ON_THE_NPU, DeeployCase, name_of

pytestmark = pytest.mark.skipif(not CASES, reason=MISSING)

# Cases hwgen does not read yet, each with what stops it; every other case must pass.
NOT_YET: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_golden_equals_deeploy(case: Path) -> None:
    data = DeeployCase.read(case)
    lowering = lower_model(data.model, input_types=data.input_types)
    assert lowering.dialect is Dialect.DEEPLOY
    assert not lowering.errors, lowering.errors[0]
    data.assert_equal(golden.run(lowering.graph, data.feed(lowering.graph)))


@pytest.mark.parametrize("case", CASES, ids=name_of)
def test_c_backend_equals_deeploy(tmp_path: Path, case: Path) -> None:
    data = DeeployCase.read(case)
    build, comp = build_of(data.model, tmp_path, array=4, input_types=data.input_types)
    assert comp.npu is not None
    assert bool(comp.npu.layers) == (name_of(case) in ON_THE_NPU)
    data.assert_equal(functional_program(build).run_checked(data.feed(build.graph)))
