"""Shared helpers: onnxruntime as the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from hwgen.oracle import onnxruntime_outputs

ort_run = onnxruntime_outputs


def assert_bit_exact(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind == "f":
        same = got.view(np.uint32 if got.dtype.itemsize == 4 else np.uint64) == want.view(
            np.uint32 if want.dtype.itemsize == 4 else np.uint64
        )
    else:
        same = got == want
    if not same.all():
        idx = tuple(int(i) for i in np.argwhere(~same)[0])
        raise AssertionError(
            f"{what}: {int((~same).sum())} of {same.size} elements differ; first at {idx}: "
            f"expected {want[idx]!r}, got {got[idx]!r}"
        )


# (label, exact elements, total elements, worst difference in LSB), one per QDQ test. Tests
# publish them as user properties so that they reach this process under pytest-xdist too.
QDQ_PROPERTY = "qdq_agreement"
_qdq_agreement: list[tuple[str, int, int, int]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _qdq_agreement.extend(v for k, v in report.user_properties if k == QDQ_PROPERTY)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _qdq_agreement:
        return
    write = terminalreporter.write_line
    write("QDQ golden (fused integer semantics) vs onnxruntime, all optimizations:")
    for label, exact, total, worst in sorted(_qdq_agreement):
        write(
            f"  {label}: {exact}/{total} elements exact ({100 * exact / total:.1f} %), "
            f"largest difference {worst} LSB"
        )
