"""Synthesis, place and route, timing and bitstream for a board, with the YoWASP tools: the
bridged NPU through amaranth's build plan, one tool at a time so progress can be shown, and
nextpnr's report read back as resources and Fmax."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hwgen.boards.ram_output_registers import fold_file
from hwgen.boards.targets import Board, tool_env
from hwgen.boards.timing import late_registers
from hwgen.boards.top import BoardTop, uart_divisor
from hwgen.errors import HwgenError
from hwgen.npu.config import NpuConfig

STAGES = {"YOSYS": "synthesis (yosys)", "NEXTPNR": "place and route (nextpnr)", "PACK": "bitstream"}
REPORT = "nextpnr-report.json"


@dataclass
class FpgaResult:
    board: str
    device: str
    array: int
    resources: dict[str, dict[str, int]]  # logic, ff, dsp, bram, spram: used and available
    fmax_mhz: float
    constraint_mhz: float  # what place and route was asked for
    board_clock_mhz: float  # what the bitstream runs at
    timing_met: bool  # at the constraint
    board_timing_met: bool
    baud: int
    seconds: float
    bitstream: str
    # Place and route as tried, in order: the first with nextpnr's own seed, then seeds 2, 3, ...
    # until one met the constraint or `seeds` ran out. The bitstream is the best one's.
    fmax_by_attempt: list[float]
    seed: int | None  # the kept attempt's --seed (None: nextpnr's own)
    # Where timing is not met: the registers whose endpoints settle after the period, latest
    # first (hwgen.boards.timing).
    late_registers: list[dict[str, Any]]
    # Flip-flops moved into the block RAMs as their output registers (ECP5 only:
    # hwgen.boards.ram_output_registers).
    ram_output_registers: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# No memory of the bridged NPU is read at an address in the same cycle as it is written there:
# - the core reads activations, weights and parameters that the data port wrote before the
#   command started (a host writes the bank a command does not read);
# - amaranth's FIFOs never read the entry being written (the rows and output-address queues);
# - the bridge writes its buffer and reads it in different states;
# - the output buffer is single-port, and a read is not taken while the core writes.
# So what such a collision reads is left undefined. Amaranth asks every read port for the old
# data, which the iCE40's block RAM does not promise, and yosys would emulate it with a
# flip-flop and a multiplexer per bit: about 390 of the iCEBreaker's 5,280 logic cells.
# Synchronous read ports only: an asynchronous one (a FIFO's, read through LUTs) has no
# collision to speak of, and yosys asserts on the parameter there.
UNDEFINED_COLLISIONS = "setparam -set COLLISION_X_MASK 1 t:$memrd_v2 r:CLK_ENABLE=1 %i"


def plan_options(board: Board, nextpnr_opts: str = "") -> dict[str, str]:
    """The overrides of amaranth's build script every build for `board` takes."""
    options = {"script_after_read": UNDEFINED_COLLISIONS}
    if board.synth_opts:
        options["synth_opts"] = board.synth_opts
    if nextpnr_opts:
        options["nextpnr_opts"] = nextpnr_opts
    return options


def _constrain_clock(platform: Any, mhz: float) -> None:
    """Place and route for `mhz` instead of the oscillator's own frequency."""
    from amaranth.build import Clock, Resource

    key = (platform.default_clk, 0)
    old = platform.resources[key]
    platform.resources[key] = Resource(old.name, old.number, *old.ios, Clock(mhz * 1e6))


def _tool_lines(script: str) -> tuple[list[str], list[tuple[str, str]]]:
    preamble, steps = [], []
    for line in script.splitlines():
        match = re.match(r'"\$(\w+)"', line)
        if match:
            var = match.group(1)
            stage = next((s for k, s in STAGES.items() if k in var), var.lower())
            steps.append((stage, line))
        elif line and not line.startswith("#"):
            preamble.append(line)
    return preamble, steps


def overflow(log: str) -> str | None:
    """nextpnr's utilisation table: every resource used beyond the device, or None."""
    over = {}
    for name, used, available in re.findall(r"(\w+):\s+(\d+)/\s*(\d+)", log):
        if int(used) > int(available):
            over[name] = (
                f"{name} {int(used):,} used of {int(available):,} (+{int(used) - int(available):,})"
            )
    return "; ".join(over.values()) or None


def build_bitstream(
    config: NpuConfig,
    board: Board,
    destination: Path,
    *,
    freq_mhz: float | None = None,
    baud: int = 1_000_000,
    seeds: int = 1,
    progress: Callable[[str], None] = lambda _: None,
) -> FpgaResult:
    """Build into `destination` (replaced whole on success; nothing left behind on failure).

    `seeds` > 1 places and routes again with other placer seeds while timing is not met. A
    device nearly full (the iCEBreaker's) moves its Fmax by several percent with the placement
    alone; each attempt is still nextpnr's timing of the one generated netlist, and a given
    seed gives the same result on every machine."""
    began = time.perf_counter()
    platform = board.platform()
    constraint = freq_mhz or board.clock_mhz
    if constraint != board.clock_mhz:
        _constrain_clock(platform, constraint)
    top = BoardTop(config, uart_divisor(board.clock_mhz * 1e6, baud), board.sysmem_bytes)
    work = destination.with_name(f".{destination.name}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        progress("elaborating the bridged NPU")
        plan = platform.build(
            top,
            name="top",
            build_dir=str(work),
            do_build=False,
            # Timing is judged here, from the report: a miss still gives figures and a
            # bitstream for a slower clock. The YoWASP tools see the build directory only,
            # so the report's path is relative.
            **plan_options(
                board,
                nextpnr_opts=f"--report {REPORT} --detailed-timing-report --timing-allow-fail",
            ),
        )
        plan.extract(str(work))
        preamble, steps = _tool_lines((work / "build_top.sh").read_text())
        env = {**os.environ, **{k: v for k, v in tool_env().items() if k not in os.environ}}

        def run(stage: str, line: str) -> None:
            done = subprocess.run(
                ["sh", "-c", "\n".join([*preamble, line])],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            )
            log = done.stdout + done.stderr
            (work / f"{stage.split()[0]}.log").write_text(log)
            if done.returncode != 0:
                too_much = overflow(log + _read(work / "top.tim"))
                if too_much:
                    smaller = max(2, config.array // 2)
                    hint = f"try a smaller array (hwgen compile ... --array {smaller})"
                    if config.requant_interval < board.npu.requant_interval:
                        hint = (
                            f"compile for the board (hwgen compile ... --board {board.name}: a "
                            f"requant unit with a narrower multiplier), or {hint}"
                        )
                    raise HwgenError(
                        f"the {config.array}x{config.array} NPU does not fit the {board.device}: "
                        f"{too_much}; {hint}"
                    )
                # yosys runs quiet, with its log in top.rpt: the reason is at its end.
                tail = "\n".join((log.strip() or _read(work / "top.rpt")).splitlines()[-5:])
                raise HwgenError(f"{stage} failed for {board.name}:\n{tail}")

        attempts: list[float] = []
        seed: int | None = None
        moved = 0
        for stage, line in steps:
            if stage != STAGES["NEXTPNR"]:
                progress(stage)
                run(stage, line)
                if stage == STAGES["YOSYS"] and board.family.name == "ecp5":
                    moved = fold_file(work / "top.json")
                continue
            for attempt in range(seeds):
                seed = attempt_seed(attempt)
                progress(f"{stage}, seed {attempt + 1} of {seeds}" if seeds > 1 else stage)
                run(stage, with_seed(line, seed))
                attempts.append(_fmax(json.loads((work / REPORT).read_text())))
                if attempts[-1] >= constraint:
                    break
            best = max(range(len(attempts)), key=attempts.__getitem__)
            if best != len(attempts) - 1:
                # The last attempt's outputs are in place: the best one's are made again.
                seed = attempt_seed(best)
                progress(f"{stage}, again with seed {best + 1}")
                run(stage, with_seed(line, seed))
        report = json.loads((work / REPORT).read_text())
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    resources = {}
    for ours, theirs in board.resources:
        entry = report["utilization"].get(theirs, {"used": 0, "available": 0})
        resources[ours] = {"used": int(entry["used"]), "available": int(entry["available"])}
    fmax = _fmax(report)
    result = FpgaResult(
        board=board.name,
        device=board.device,
        array=config.array,
        resources=resources,
        fmax_mhz=round(fmax, 2),
        constraint_mhz=constraint,
        board_clock_mhz=board.clock_mhz,
        timing_met=fmax >= constraint,
        board_timing_met=fmax >= board.clock_mhz,
        baud=baud,
        seconds=round(time.perf_counter() - began, 1),
        bitstream=board.bitstream,
        fmax_by_attempt=[round(f, 2) for f in attempts],
        seed=seed,
        late_registers=[r.as_dict() for r in late_registers(report, 1000 / constraint)],
        ram_output_registers=moved,
    )
    (work / "fpga.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    shutil.rmtree(destination, ignore_errors=True)
    work.rename(destination)
    return result


def attempt_seed(attempt: int) -> int | None:
    """The placer seed of attempt 0, 1, ...: nextpnr's own, then 2, 3, ..."""
    return attempt + 1 if attempt else None


def with_seed(line: str, seed: int | None) -> str:
    """A nextpnr command line of amaranth's build script with `--seed` (None: as it is)."""
    if seed is None:
        return line
    command, rest = line.split(" ", 1)
    return f"{command} --seed {seed} {rest}"


def _fmax(report: dict[str, Any]) -> float:
    """The slowest clock's achieved frequency in nextpnr's report."""
    return min(float(c["achieved"]) for c in report["fmax"].values())


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
