"""cocotb testbench of the requant unit in one mode: random vectors through the pipeline under
idle and backpressure, every result checked against sim_models.requant."""

from __future__ import annotations

import itertools
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from hwgen.npu.requant import ORT_REQUEST, SHIFT_REQUEST, ort_stages, shift_stages
from hwgen.sim_models.requant import requant_ort, requant_shift, split_float32
from verification.packing import pack
from verification.streams import stream_through

MODE = os.environ.get("REQUANT_MODE", "ort")
VECTORS = int(os.environ.get("REQUANT_VECTORS", "100000"))
INTERVAL = int(os.environ.get("REQUANT_INTERVAL", "1"))
STAGES = (ort_stages if MODE == "ort" else shift_stages)(INTERVAL)
DTYPE_RANGES = [(-128, 127), (0, 255)]


def accumulators(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.integers(0, 4, size=n)
    full = rng.integers(-(2**31), 2**31, size=n)
    near = rng.integers(2**24 - 256, 2**26, size=n) * rng.choice([-1, 1], size=n)
    small = rng.integers(-3000, 3000, size=n)
    extreme = rng.choice(np.array([-(2**31), 2**31 - 1, 0, 1, -1, 2**24 + 1]), size=n)
    return np.select([kind == 0, kind == 1, kind == 2], [full, near, small], extreme)


def bounds(
    rng: np.random.Generator, n: int, zp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output type per vector, with a fused ReLU (lower = zero point) on a third of them."""
    signed = rng.integers(0, 2, size=n).astype(bool)
    lo = np.where(signed, -128, 0)
    hi = np.where(signed, 127, 255)
    zp = np.where(signed, zp - 128, zp)
    relu = rng.integers(0, 3, size=n) == 0
    return zp, np.where(relu, np.maximum(lo, zp), lo), hi


def ort_vectors(rng: np.random.Generator, n: int) -> tuple[list[int], np.ndarray]:
    acc = accumulators(rng, n)
    zp, lo, hi = bounds(rng, n, rng.integers(0, 256, size=n))
    choice = rng.integers(0, 4, size=n)
    log_uniform = np.exp(rng.uniform(np.log(2.0**-40), np.log(2.0**10), size=n))
    ties = 2.0 ** rng.integers(-30, 3, size=n).astype(np.float64)
    subnormal = 2.0 ** rng.integers(-149, -126, size=n).astype(np.float64)
    mult = np.select([choice <= 1, choice == 2], [log_uniform, ties], subnormal).astype(np.float32)
    parts = [split_float32(float(v)) for v in mult]
    mantissa = np.array([p[0] for p in parts], dtype=np.int64)
    exponent = np.array([p[1] for p in parts], dtype=np.int64)
    want = requant_ort(acc, mantissa, exponent, zp, lo, hi)
    words = [
        pack(
            ORT_REQUEST,
            {
                "acc": int(acc[i]),
                "params": {
                    "mantissa": int(mantissa[i]),
                    "exponent": int(exponent[i]),
                    "zero_point": int(zp[i]),
                    "lower": int(lo[i]),
                    "upper": int(hi[i]),
                },
            },
        )
        for i in range(n)
    ]
    return words, want


def shift_vectors(rng: np.random.Generator, n: int) -> tuple[list[int], np.ndarray]:
    acc = accumulators(rng, n)
    _, lo, hi = bounds(rng, n, np.zeros(n, dtype=np.int64))
    shift = rng.integers(0, 48, size=n)
    mul = rng.integers(-(2**31), 2**31, size=n) >> rng.integers(0, 31, size=n)
    add = rng.integers(-(2**47), 2**47, size=n) >> rng.integers(0, 47, size=n)
    want = requant_shift(acc, mul, add, shift, lo, hi)
    words = [
        pack(
            SHIFT_REQUEST,
            {
                "acc": int(acc[i]),
                "params": {
                    "mul": int(mul[i]),
                    "add": int(add[i]),
                    "shift": int(shift[i]),
                    "lower": int(lo[i]),
                    "upper": int(hi[i]),
                },
            },
        )
        for i in range(n)
    ]
    return words, want


async def reset(dut: HierarchyObject) -> None:
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0


@cocotb.test(timeout_time=100, timeout_unit="ms")
@cocotb.parametrize(idle=[0.0, 0.3], backpressure=[0.0, 0.3])
async def random_vectors_match_model(
    dut: HierarchyObject, idle: float, backpressure: float
) -> None:
    await reset(dut)
    rng = np.random.default_rng(int(idle * 10) * 7 + int(backpressure * 10))
    count = VECTORS // 4  # the four stall patterns together send VECTORS vectors
    words, want = (ort_vectors if MODE == "ort" else shift_vectors)(rng, count)
    got = await stream_through(
        dut,
        "request",
        "result",
        words,
        idle=idle,
        backpressure=backpressure,
        seed=count,
        max_cycles=count * 4 * INTERVAL + 100,
    )
    expected = [int(v) & 0xFF for v in want]
    bad = [i for i, (g, w) in enumerate(zip(got, expected, strict=True)) if g != w]
    assert not bad, (
        f"{len(bad)} of {count} differ; "
        f"first #{bad[0]}: expected {expected[bad[0]]}, got {got[bad[0]]}"
    )


@cocotb.test()
async def takes_a_request_every_interval_and_answers_after_its_stages(dut: HierarchyObject) -> None:
    """Offered a request every cycle, it takes one every INTERVAL cycles, and each result
    leaves exactly STAGES cycles after its request entered: the figures the cycle model uses."""
    await reset(dut)
    rng = np.random.default_rng(5)
    words, want = (ort_vectors if MODE == "ort" else shift_vectors)(rng, 12)
    taken: list[int] = []
    answered: list[tuple[int, int]] = []
    dut.result__ready.value = 1
    dut.request__valid.value = 1
    dut.request__payload.value = words[0]
    for cycle in range(12 * INTERVAL + STAGES + 10):
        await ReadOnly()
        accepted = bool(dut.request__ready.value) and len(taken) < len(words)
        if accepted:
            taken.append(cycle)
        if dut.result__valid.value:
            answered.append((cycle, int(dut.result__payload.value)))
        await RisingEdge(dut.clk)
        if accepted:
            more = len(taken) < len(words)
            dut.request__valid.value = int(more)
            if more:
                dut.request__payload.value = words[len(taken)]
    dut.request__valid.value = 0
    assert [b - a for a, b in itertools.pairwise(taken)] == [INTERVAL] * (len(words) - 1), taken
    assert [c for c, _ in answered] == [t + STAGES for t in taken], (taken, answered)
    assert [v for _, v in answered] == [int(v) & 0xFF for v in want]
