"""Build an Amaranth component once per parameter set and run cocotb tests on it (Verilator)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from amaranth.lib import wiring
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from hwgen.codegen.verilog import emit_systemverilog
from hwgen.toolchain import use_verilator

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "sim"

# Amaranth's arithmetic widens and truncates on assignment, which Verilator reports as WIDTH
# warnings on correct code; they are not fatal for the generated RTL.
VERILATOR_ARGS = ["-Wno-WIDTH", "-Wno-fatal"]


def run_cocotb(
    make: Callable[[], wiring.Component],
    toplevel: str,
    test_module: str,
    params: str,
    extra_env: dict[str, str] | None = None,
) -> None:
    """Emit `make()` as SystemVerilog, build it under Verilator (reused while the RTL is
    unchanged), run `test_module`'s cocotb tests and fail on any failure."""
    use_verilator()
    sv = emit_systemverilog(make(), toplevel)
    digest = hashlib.sha256(sv.encode()).hexdigest()[:12]
    build_dir = BUILD / f"{toplevel}-{params}-{digest}"
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{toplevel}.sv"
    if not source.exists() or source.read_text() != sv:
        source.write_text(sv)
    runner = get_runner("verilator")
    runner.build(
        sources=[source],
        hdl_toplevel=toplevel,
        build_dir=build_dir,
        build_args=VERILATOR_ARGS,
        log_file=build_dir / "build.log",
    )
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.update(extra_env or {})
    results = runner.test(
        test_module=test_module,
        hdl_toplevel=toplevel,
        build_dir=build_dir,
        test_dir=build_dir,
        extra_env=env,
        log_file=build_dir / "test.log",
    )
    total, failed = get_results(results)
    assert total > 0, f"no cocotb test ran; see {build_dir / 'test.log'}"
    assert failed == 0, f"{failed} of {total} cocotb tests failed; see {build_dir / 'test.log'}"
