"""One fuzz case: a seed model, one damage (to the model, the file, the inputs or the command
line), one command; and its verdict."""

from __future__ import annotations

import enum
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.fuzz.commandlines import COMMAND_LINES
from tests.fuzz.inputs import damage_inputs
from tests.fuzz.mutations import MUTATIONS, mutate_bytes
from tests.fuzz.oracle import Arrays, Outcome, compare, declared_inputs, reference, run_hwgen
from tests.fuzz.seeds import Seed, seeds


class Command(enum.Enum):
    CHECK = "check"
    GOLDEN = "golden"
    C = "c"
    COMPILE = "compile"


# How often each command is drawn: the golden model the most, the slower c backend and
# compile now and then.
COMMAND_WEIGHTS = {Command.CHECK: 0.3, Command.GOLDEN: 0.55, Command.C: 0.08, Command.COMPILE: 0.07}
DAMAGE_WEIGHTS = {"model": 0.62, "bytes": 0.05, "inputs": 0.15, "command line": 0.13, "none": 0.05}
TIMEOUT_S = 120


@dataclass
class Case:
    index: int
    seed: Seed
    damage: str
    command: Command
    model: bytes
    inputs: Arrays
    argv_template: str | None = None  # a command-line damage, by name
    # A QDQ graph is within its LSB bound of onnxruntime layer by layer; at its output only
    # where its numbers are the seed's (one LSB at a coarsened layer, or on an extreme input,
    # grows through the next), so a QDQ graph's outputs are compared only when undamaged.
    numerics_changed: bool = False

    def describe(self) -> str:
        return f"case {self.index}: {self.seed.name}, {self.command.value}: {self.damage}"


def _draw(rng: np.random.Generator, weights: dict) -> object:  # type: ignore[type-arg]
    keys = list(weights)
    return keys[
        int(rng.choice(len(keys), p=np.array(list(weights.values())) / sum(weights.values())))
    ]


def make_case(seed: int, index: int) -> Case:
    rng = np.random.default_rng([seed, index])
    pool = seeds()
    base = pool[int(rng.integers(len(pool)))]
    command: Command = _draw(rng, COMMAND_WEIGHTS)  # type: ignore[assignment]
    kind = _draw(rng, DAMAGE_WEIGHTS)
    model, inputs, damage, template = base.model, dict(base.inputs), "no damage", None
    if kind == "model":
        proto = base.load()
        for _ in range(20):  # a mutation with nothing to apply to draws again
            mutation = MUTATIONS[int(rng.integers(len(MUTATIONS)))]
            said = mutation(rng, proto)
            if said is not None:
                damage = said
                break
        model = proto.SerializeToString()
    elif kind == "bytes":
        model, damage = mutate_bytes(rng, model)
    elif kind == "inputs":
        inputs, damage = damage_inputs(rng, inputs)
        if command in (Command.CHECK, Command.COMPILE):
            command = Command.GOLDEN
    elif kind == "command line":
        names = sorted(COMMAND_LINES)
        template = names[int(rng.integers(len(names)))]
        damage = f"command line: {template}"
    return Case(
        index, base, damage, command, model, inputs, template, kind in ("model", "bytes", "inputs")
    )


def _argv(case: Case, work: Path) -> list[str]:
    if case.argv_template is not None:
        return COMMAND_LINES[case.argv_template](work)
    model, inputs = str(work / "model.onnx"), str(work / "in.npz")
    if case.command is Command.CHECK:
        return ["check", model]
    if case.command is Command.COMPILE:
        return ["compile", model, "-o", str(work / "build")]
    return [
        "run",
        model,
        "--inputs",
        inputs,
        "--outputs",
        str(work / "out.npz"),
        "--backend",
        case.command.value,
    ]


def _files(work: Path) -> set[str]:
    return {p.name for p in work.iterdir()}


def judge(case: Case) -> str | None:
    """What is wrong with hwgen's answer to the case, or None where it is right."""
    with tempfile.TemporaryDirectory(prefix="hwgen-fuzz-") as tmp:
        work = Path(tmp)
        (work / "model.onnx").write_bytes(case.model)
        np.savez(work / "in.npz", **case.inputs)
        argv = _argv(case, work)
        before = _files(work)
        outcome = run_hwgen(argv, TIMEOUT_S)
        after = _files(work)
        wanted = {"out.npz"} if case.command in (Command.GOLDEN, Command.C) else {"build"}
        produced = after - before
        outputs = None
        if outcome.code == 0 and (work / "out.npz").is_file():
            with np.load(work / "out.npz") as data:
                outputs = {k: data[k] for k in data.files}
    return _verdict(case, argv, outcome, produced, wanted, outputs)


def _verdict(
    case: Case,
    argv: list[str],
    outcome: Outcome,
    produced: set[str],
    wanted: set[str],
    outputs: Arrays | None,
) -> str | None:
    if outcome.crash is not None:
        return f"crash: {outcome.crash.strip().splitlines()[-1]}\n{outcome.crash}"
    if outcome.warned:
        return f"warning printed: {outcome.warned[0]}"
    errors = [line for line in outcome.err.splitlines() if line.startswith("error:")]
    if outcome.code != 0:
        if produced:
            return f"exit {outcome.code}, yet left {sorted(produced)}"
        if outcome.code != 1:
            return f"exit {outcome.code}: {outcome.err.strip()[:300]}"
        refused_nodes = argv[:1] == ["check"] and "unsupported" in outcome.out
        if len(errors) != 1 and not refused_nodes:
            return f"exit 1 without exactly one error line: {outcome.err.strip()[:300]}"
        if errors and len(outcome.err.strip().splitlines()) != 1:
            return f"more than the error line on stderr: {outcome.err.strip()[:300]}"
        return None
    if case.argv_template is not None and argv[:1] != ["check"]:
        return None  # a usable command line after all (a valid --array 3 ...)
    runs = case.command in (Command.GOLDEN, Command.C)
    ref = reference(case.model, case.inputs if runs else declared_inputs(case.model) or case.inputs)
    if ref.refusal is not None:
        return f"exit 0, but onnxruntime refuses: {ref.refusal}"
    if produced - wanted:
        return f"left {sorted(produced - wanted)} beside its output"
    if case.seed.lsb_bound and case.numerics_changed:
        return None
    if outputs is not None and ref.outputs is not None:
        return compare(outputs, ref.outputs, case.model, case.seed.lsb_bound)
    return None
