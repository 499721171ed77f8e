"""Build an Amaranth component once per parameter set and run cocotb tests on it (Verilator)."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from amaranth.lib import wiring
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from hwgen.codegen.verilog import emit_systemverilog
from hwgen.toolchain import use_verilator

ROOT = Path(__file__).resolve().parent.parent.parent
BUILD = Path(os.environ.get("HWGEN_SIM_BUILD", ROOT / "build" / "sim"))

# Amaranth's arithmetic widens and truncates on assignment, which Verilator reports as WIDTH
# warnings on correct code; they are not fatal for the generated RTL.
VERILATOR_ARGS = ["-Wno-WIDTH", "-Wno-fatal"]


def _write_if_changed(path: Path, text: str) -> None:
    # Rewriting an unchanged source would make the simulator build run again.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def build_dir(toplevel: str, params: str) -> Path:
    """Where the simulator of `toplevel` for one parameter set is built and kept."""
    return BUILD / f"{toplevel}-{params}"


def run_cocotb(
    make: Callable[[], wiring.Component],
    toplevel: str,
    test_module: str,
    params: str,
    extra_env: dict[str, str] | None = None,
) -> None:
    """Emit `make()` as SystemVerilog named `toplevel` and run `test_module` on it."""

    def emit(directory: Path) -> list[Path]:
        source = directory / f"{toplevel}.sv"
        _write_if_changed(source, emit_systemverilog(make(), toplevel))
        return [source]

    run_cocotb_sources(emit, toplevel, test_module, params, extra_env)


def run_cocotb_sources(
    emit: Callable[[Path], list[Path]],
    toplevel: str,
    test_module: str,
    params: str,
    extra_env: dict[str, str] | None = None,
) -> None:
    """Write the RTL with `emit(directory)`, build it under Verilator (once per parameter
    set, again only when a source changed), run `test_module`'s cocotb tests, fail on any
    failure."""
    use_verilator()
    directory = build_dir(toplevel, params)
    directory.mkdir(parents=True, exist_ok=True)
    runner = get_runner("verilator")
    # The runner narrates every command at INFO (it sets that level itself); the build and
    # test logs are kept in the build directory instead.
    logging.getLogger(type(runner).__qualname__).setLevel(logging.WARNING)
    # Parallel test workers may want the same build: one builds, the others wait and reuse it.
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sources = emit(directory)
        runner.build(
            sources=sources,
            hdl_toplevel=toplevel,
            build_dir=directory,
            build_args=VERILATOR_ARGS,
            log_file=directory / "build.log",
        )
    test_dir = Path(tempfile.mkdtemp(dir=directory, prefix="run-"))
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.update(extra_env or {})
    results = runner.test(
        test_module=test_module,
        hdl_toplevel=toplevel,
        build_dir=directory,
        test_dir=test_dir,
        extra_env=env,
        log_file=test_dir / "test.log",
    )
    total, failed = get_results(results)
    assert total > 0, f"no cocotb test ran; see {test_dir / 'test.log'}"
    assert failed == 0, f"{failed} of {total} cocotb tests failed; see {test_dir / 'test.log'}"
    shutil.rmtree(test_dir)  # a failed run's directory stays, with its log
