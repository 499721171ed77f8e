"""Unusable command lines: each builds, in a scratch directory holding a valid model.onnx and
in.npz, the argv of one mistake a user makes (paths that cannot be written, wrong files, bad
option values)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

CommandLine = Callable[[Path], list[str]]


def _file(work: Path, name: str, text: str = "not a model\n") -> str:
    (work / name).write_text(text)
    return str(work / name)


def _dir(work: Path, name: str) -> str:
    (work / name).mkdir(exist_ok=True)
    (work / name / "keep").write_text("")
    return str(work / name)


def _run(work: Path, *extra: str) -> list[str]:
    return ["run", str(work / "model.onnx"), "--inputs", str(work / "in.npz"), *extra]


def _compile(work: Path, *extra: str) -> list[str]:
    return ["compile", str(work / "model.onnx"), *extra]


UNWRITABLE = "/sys/hwgen-fuzz"  # refused to every user, root included

COMMAND_LINES: dict[str, CommandLine] = {
    "outputs under a file": lambda w: _run(w, "--outputs", _file(w, "afile") + "/out.npz"),
    "outputs in an unwritable place": lambda w: _run(w, "--outputs", UNWRITABLE + "/out.npz"),
    "outputs naming a directory": lambda w: _run(w, "--outputs", _dir(w, "adir")),
    "outputs in a missing directory": lambda w: _run(w, "--outputs", str(w / "no/out.npz")),
    "build under a file": lambda w: _compile(w, "-o", _file(w, "afile") + "/build"),
    "build in an unwritable place": lambda w: _compile(w, "-o", UNWRITABLE + "/build"),
    "build naming a file": lambda w: _compile(w, "-o", _file(w, "afile")),
    "build naming a non-empty directory": lambda w: _compile(w, "-o", _dir(w, "adir")),
    "inputs missing": lambda w: [
        "run",
        str(w / "model.onnx"),
        "--inputs",
        str(w / "no.npz"),
        "--outputs",
        str(w / "out.npz"),
    ],
    "inputs a directory": lambda w: [
        "run",
        str(w / "model.onnx"),
        "--inputs",
        _dir(w, "adir"),
        "--outputs",
        str(w / "out.npz"),
    ],
    "inputs not an npz": lambda w: [
        "run",
        str(w / "model.onnx"),
        "--inputs",
        str(w / "model.onnx"),
        "--outputs",
        str(w / "out.npz"),
    ],
    "model missing": lambda w: ["check", str(w / "no.onnx")],
    "model a directory": lambda w: ["check", _dir(w, "adir")],
    "model a text file": lambda w: ["check", _file(w, "model.txt")],
    "model empty": lambda w: ["check", _file(w, "empty.onnx", "")],
    "build to sim missing": lambda w: ["sim", str(w / "nobuild"), "--inputs", str(w / "in.npz")],
    "build to fpga a model": lambda w: ["fpga", str(w / "model.onnx"), "--board", "ulx3s"],
    "array 0": lambda w: _compile(w, "-o", str(w / "b"), "--array", "0"),
    "array -4": lambda w: _compile(w, "-o", str(w / "b"), "--array", "-4"),
    "array 3": lambda w: _compile(w, "-o", str(w / "b"), "--array", "3"),
    "array not a number": lambda w: _compile(w, "-o", str(w / "b"), "--array", "eight"),
    "weight buffer 0": lambda w: _compile(w, "-o", str(w / "b"), "--weight-kib", "0"),
    "weight buffer negative": lambda w: _compile(w, "-o", str(w / "b"), "--weight-kib", "-2"),
    "weight buffer nan": lambda w: _compile(w, "-o", str(w / "b"), "--weight-kib", "nan"),
    "act buffer huge": lambda w: _compile(w, "-o", str(w / "b"), "--act-kib", "1e12"),
    "bus 7": lambda w: _compile(w, "-o", str(w / "b"), "--bus", "7"),
    "commands 0": lambda w: _compile(w, "-o", str(w / "b"), "--commands", "0"),
    "requant lanes 3": lambda w: _compile(w, "-o", str(w / "b"), "--requant-lanes", "3"),
    "l1 0": lambda w: _compile(w, "-o", str(w / "b"), "--l1", "0"),
    "l1 negative": lambda w: _compile(w, "-o", str(w / "b"), "--l1", "-1"),
    "board unknown": lambda w: _compile(w, "-o", str(w / "b"), "--board", "nosuch"),
    "dialect unknown": lambda w: ["check", str(w / "model.onnx"), "--dialect", "bogus"],
    "dialect nemo on a float-input graph": lambda w: [
        "check",
        str(w / "model.onnx"),
        "--dialect",
        "nemo",
    ],
    "dialect deeploy forced": lambda w: _run(
        w, "--outputs", str(w / "out.npz"), "--dialect", "deeploy"
    ),
    "input type malformed": lambda w: ["check", str(w / "model.onnx"), "--input-type", "input"],
    "input type unknown": lambda w: ["check", str(w / "model.onnx"), "--input-type", "input=int4"],
    "input type of no input": lambda w: _run(
        w, "--outputs", str(w / "out.npz"), "--input-type", "nosuch=uint8"
    ),
    "place malformed": lambda w: _compile(w, "-o", str(w / "b"), "--place", "x"),
    "place of no node": lambda w: _compile(w, "-o", str(w / "b"), "--place", "nosuch=npu"),
    "backend unknown": lambda w: _run(w, "--outputs", str(w / "out.npz"), "--backend", "gpu"),
    "board backend without a port": lambda w: _run(
        w, "--outputs", str(w / "out.npz"), "--backend", "board"
    ),
    "unknown flag": lambda w: ["check", str(w / "model.onnx"), "--bogus"],
    "no command": lambda w: [],
    "unknown command": lambda w: ["frobnicate"],
    "run without outputs": lambda w: ["run", str(w / "model.onnx"), "--inputs", str(w / "in.npz")],
}
