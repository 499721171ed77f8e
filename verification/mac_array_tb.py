"""cocotb testbench of MacArray: rows of random and extreme operands, random stalls (en low),
gaps (valid low) and owners slow to take a row, every row taken checked against numpy's exact
sums."""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from hwgen.sim_models.linear import matmul_acc

M = int(os.environ["NPU_ARRAY"])
SUM_WIDTH = int(os.environ["NPU_SUM_WIDTH"])  # NpuConfig.sum_width: bits per lane of `sums`


def pack_bytes(values: np.ndarray) -> int:
    return int.from_bytes(values.astype(np.int8).tobytes(), "little")


def unpack_sums(word: int) -> list[int]:
    lanes = [(word >> (SUM_WIDTH * c)) & ((1 << SUM_WIDTH) - 1) for c in range(M)]
    return [v - (1 << SUM_WIDTH) if v >> (SUM_WIDTH - 1) else v for v in lanes]


def make_rows(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rows = []
    for r in range(count):
        steps = int(rng.integers(1, 12))
        if r % 3 == 0:  # extremes drive the largest partial sums of both signs
            a = rng.choice(np.array([-128, 127]), size=(steps, M))
            w = rng.choice(np.array([-128, 127]), size=(steps, M, M))
        else:
            a = rng.integers(-128, 128, size=(steps, M))
            w = rng.integers(-128, 128, size=(steps, M, M))
        rows.append((a, w))
    return rows


def expected(rows: list[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    # Row sums: sum over steps and input lanes of a[s, i] * w[s, i, c].
    return [matmul_acc(a.reshape(1, -1), w.reshape(-1, M))[0].tolist() for a, w in rows]


@cocotb.test(timeout_time=10, timeout_unit="ms")
@cocotb.parametrize(stall=[0.0, 0.3], slow_owner=[False, True])
async def rows_match_exact_sums(dut: HierarchyObject, stall: float, slow_owner: bool) -> None:
    """The owner takes each row after a random wait (at once, if not `slow_owner`) and keeps
    MacArray's contract: `en` low while a row would finish onto one not taken, and low at
    random besides (`stall`)."""
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.en.value = 0
    dut.valid.value = 0
    dut.taken.value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    rng = np.random.default_rng(M * 10 + int(stall * 10) + 100 * slow_owner)
    rows = make_rows(rng, 200)
    steps = [(a[s], w[s], s == len(a) - 1) for a, w in rows for s in range(len(a))]
    pick = random.Random(int(stall * 10) + 100 * slow_owner)
    got: list[list[int]] = []
    index = 0
    # Read in the cycle before, as the *_next outputs give them: what sums_valid is, and
    # whether a row finishes at the coming edge if en is high.
    holding = finishing = False
    while len(got) < len(rows):
        await RisingEdge(dut.clk)
        taken = holding and (not slow_owner or pick.random() < 0.25)
        enabled = pick.random() >= stall and not (finishing and holding and not taken)
        dut.taken.value = int(taken)
        dut.en.value = int(enabled)
        if enabled and index < len(steps) and pick.random() >= 0.2:
            a, w, last = steps[index]
            dut.a.value = pack_bytes(a)
            dut.w.value = pack_bytes(w.reshape(-1))
            dut.last.value = int(last)
            dut.valid.value = 1
            index += 1
        else:
            dut.valid.value = 0
        await ReadOnly()
        if taken:
            got.append(unpack_sums(int(dut.sums.value)))
        holding = bool(dut.sums_valid_next.value)
        finishing = bool(dut.finishing_next.value)
    want = expected(rows)
    bad = [i for i in range(len(rows)) if got[i] != want[i]]
    assert not bad, (
        f"{len(bad)} rows differ; first #{bad[0]}: expected {want[bad[0]]}, got {got[bad[0]]}"
    )
