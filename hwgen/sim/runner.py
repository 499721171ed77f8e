"""Build RTL once per source text under Verilator and run cocotb tests on it.

Simulator builds live in the per-user cache (hwgen.cache), one directory per top level and
parameter set; a build is redone only when a source changed."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from amaranth.lib import wiring
from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from hwgen.cache import cache_dir
from hwgen.codegen.verilog import emit_systemverilog
from hwgen.errors import HwgenError
from hwgen.toolchain import use_verilator, verilator_root

# Amaranth's arithmetic widens and truncates on assignment, which Verilator reports as WIDTH
# warnings on correct code; they are not fatal for the generated RTL.
VERILATOR_ARGS = ["-Wno-WIDTH", "-Wno-fatal"]


class CocotbFailure(AssertionError):
    """A cocotb test failed; `log` keeps what it printed."""

    def __init__(self, message: str, log: Path) -> None:
        self.log = log
        super().__init__(message)


def write_if_changed(path: Path, text: str) -> None:
    # Rewriting an unchanged source would make the simulator build run again.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _toolchain_key() -> str:
    """The Verilator and cocotb installs a build was made with: its makefiles name their files
    by path, so a build made by another environment (since removed or reinstalled) cannot be
    reused."""
    from cocotb_tools.config import share_dir

    places = f"{verilator_root()}\n{share_dir}"
    return hashlib.sha256(places.encode()).hexdigest()[:8]


def build_dir(toplevel: str, params: str) -> Path:
    """Where the simulator of `toplevel` for one parameter set is built and kept."""
    return cache_dir("sim") / f"{toplevel}-{params}-{_toolchain_key()}"


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
        write_if_changed(source, emit_systemverilog(make(), toplevel))
        return [source]

    run_cocotb_sources(emit, toplevel, test_module, params, extra_env)


def _python_path() -> str:
    """What this process imports from, for the simulator's Python: the test modules are
    found the same way here and there (an installed hwgen, or a checkout under pytest)."""
    entries = [p for p in sys.path if p and Path(p).is_dir()]
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([*entries, inherited] if inherited else entries)


def run_cocotb_sources(
    emit: Callable[[Path], list[Path]],
    toplevel: str,
    test_module: str,
    params: str,
    extra_env: dict[str, str] | None = None,
    build_args: list[str] | None = None,
) -> None:
    """Write the RTL with `emit(directory)`, build it under Verilator (once per parameter
    set, again only when a source changed), run `test_module`'s cocotb tests, and raise
    CocotbFailure if any failed."""
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
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=toplevel,
                build_dir=directory,
                build_args=[*VERILATOR_ARGS, *(build_args or [])],
                log_file=directory / "build.log",
            )
        except RuntimeError:  # the runner's word for a failed command
            raise HwgenError(
                f"Verilator could not build the simulator of {toplevel}; its log is "
                f"{directory / 'build.log'}"
            ) from None
    test_dir = Path(tempfile.mkdtemp(dir=directory, prefix="run-"))
    env = {"PYTHONPATH": _python_path(), **(extra_env or {})}
    log = test_dir / "test.log"
    try:
        results = runner.test(
            test_module=test_module,
            hdl_toplevel=toplevel,
            build_dir=directory,
            test_dir=test_dir,
            extra_env=env,
            log_file=log,
        )
    except SystemExit:  # the runner's way of saying that a test failed
        raise CocotbFailure(f"a cocotb test failed; see {log}", log) from None
    total, failed = get_results(results)
    if total == 0:
        raise CocotbFailure(f"no cocotb test ran; see {log}", log)
    if failed:
        raise CocotbFailure(f"{failed} of {total} cocotb tests failed; see {log}", log)
    shutil.rmtree(test_dir)  # a failed run's directory stays, with its log
