"""Running one case and judging it.

The rule: hwgen exits 0 only where onnxruntime accepts the model and inputs and the outputs
agree (bit for bit, or within the seed's LSB bound for QDQ); otherwise it prints exactly one
`error:` line and exits 1. Never a traceback, a printed warning, a hang, or output left behind
by a failure."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from hwgen.cli import main
from hwgen.oracle import onnxruntime_outputs

Arrays = dict[str, npt.NDArray[np.generic]]


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no `except Exception` in hwgen hides it."""


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    crash: str | None  # the traceback of an exception that escaped hwgen's CLI
    warned: list[str]


@contextlib.contextmanager
def _captured_fds(into: Path) -> Iterator[tuple[Path, Path]]:
    """Descriptors 1 and 2 into files: the C compiler's and onnxruntime's output as well."""
    paths = into / "stdout", into / "stderr"
    saved = [os.dup(1), os.dup(2)]
    files = [open(p, "w+b") for p in paths]  # noqa: SIM115
    # Python's own streams as well: under pytest they are not descriptors 1 and 2.
    texts = [open(p, "a", encoding="utf-8", errors="replace") for p in paths]  # noqa: SIM115
    try:
        for fd, f in zip((1, 2), files, strict=True):
            os.dup2(f.fileno(), fd)
        with contextlib.redirect_stdout(texts[0]), contextlib.redirect_stderr(texts[1]):
            yield paths
    finally:
        for text in texts:
            text.close()
        for fd, keep in zip((1, 2), saved, strict=True):
            os.dup2(keep, fd)
            os.close(keep)
        for f in files:
            f.close()


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


def run_hwgen(argv: list[str], timeout: int) -> Outcome:
    crash = None
    warned: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hwgen-fuzz-io-") as io:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
        try:
            with _captured_fds(Path(io)) as (out_path, err_path):
                with warnings.catch_warnings(record=True) as caught:
                    try:
                        code = main(argv)
                    except SystemExit as exc:
                        code = exc.code if isinstance(exc.code, int) else 1
                    except Hang:
                        code, crash = -1, f"no answer within {timeout} s"
                    except BaseException:
                        code, crash = -2, traceback.format_exc()
                warned = [str(w.message) for w in caught]
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        out = out_path.read_text(errors="replace")
        err = err_path.read_text(errors="replace")
    return Outcome(code, out, err, crash, warned)


@dataclass
class Reference:
    """onnxruntime's verdict: its outputs, or why it refuses."""

    outputs: Arrays | None
    refusal: str | None


def reference(model: bytes, inputs: Arrays) -> Reference:
    try:
        proto = onnx.load_from_string(model)
        with np.errstate(all="ignore"):
            return Reference(onnxruntime_outputs(proto, inputs), None)
    except Exception as exc:
        return Reference(None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def declared_inputs(model: bytes) -> Arrays | None:
    """Zeros of the shapes and types the model declares for its inputs: what `check` and
    `compile` are judged on, as they take no inputs. None where a shape is not static."""
    try:
        proto = onnx.load_from_string(model)
        constant = {t.name for t in proto.graph.initializer}
        found: Arrays = {}
        for inp in proto.graph.input:
            if inp.name in constant:
                continue
            tensor = inp.type.tensor_type
            dims = [d.dim_value for d in tensor.shape.dim]
            if any(d <= 0 for d in dims) or np.prod(dims, dtype=np.float64) > 1 << 24:
                return None
            found[inp.name] = np.zeros(dims, helper.tensor_dtype_to_np_dtype(tensor.elem_type))
        return found
    except Exception:
        return None


def output_scale(model: bytes, output: str) -> float | None:
    """The scale of the graph output's final DequantizeLinear, if it has one to measure in."""
    try:
        proto = onnx.load_from_string(model)
    except Exception:
        return None
    consts = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for node in proto.graph.node:
        if output in node.output and node.op_type == "DequantizeLinear":
            scale = consts.get(node.input[1])
            if scale is not None and scale.size == 1 and np.isfinite(scale).all():
                return float(scale.reshape(-1)[0])
    return None


def compare(got: Arrays, want: Arrays, model: bytes, lsb_bound: int) -> str | None:
    """Why `got` differs from onnxruntime's `want`, or None where it agrees."""
    if sorted(got) != sorted(want):
        return f"outputs {sorted(got)}, onnxruntime's {sorted(want)}"
    for name, w in want.items():
        g = got[name]
        if g.dtype != w.dtype or g.shape != w.shape:
            return f"'{name}': {g.dtype}{list(g.shape)}, onnxruntime's {w.dtype}{list(w.shape)}"
        if np.array_equal(g, w, equal_nan=True):
            continue
        scale = output_scale(model, name) if lsb_bound else None
        if scale is None:
            return f"'{name}': {int((g != w).sum())} elements differ from onnxruntime"
        with np.errstate(all="ignore"):
            lsb = np.rint(np.abs(g.astype(np.float64) - w) / scale)
        if not np.all(lsb <= lsb_bound):
            return f"'{name}': up to {np.nanmax(lsb)} LSB from onnxruntime (bound {lsb_bound})"
    return None
