"""The project's fuzzer, a fixed few hundred cases: damaged models, inputs and command lines,
each judged against onnxruntime (tests/fuzz). `nox -s fuzz` runs thousands more."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = 300


def test_fixed_seed_fuzz_finds_nothing() -> None:
    # A process of its own: the fuzzer bounds its address space and catches SIGALRM.
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz", "--cases", str(CASES), "--seed", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{CASES} cases" in done.stdout and ": 0 findings" in done.stdout, done.stdout
