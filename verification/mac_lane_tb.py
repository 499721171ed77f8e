"""cocotb testbench of MacLane: driver, monitor and model as separate parts, under random idle
cycles on the operand stream and random backpressure on the result stream."""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from sim_models.linear import matmul_acc

OPERAND_WIDTH = int(os.environ.get("MAC_OPERAND_WIDTH", "8"))


def pack(a: int, w: int, last: bool) -> int:
    mask = (1 << OPERAND_WIDTH) - 1
    return (a & mask) | ((w & mask) << OPERAND_WIDTH) | (int(last) << (2 * OPERAND_WIDTH))


async def drive_operands(
    dut: HierarchyObject,
    vectors: list[tuple[np.ndarray, np.ndarray]],
    idle: float,
    rng: random.Random,
) -> None:
    for a, w in vectors:
        for i in range(len(a)):
            while rng.random() < idle:
                dut.operands__valid.value = 0
                await RisingEdge(dut.clk)
            dut.operands__payload.value = pack(int(a[i]), int(w[i]), i == len(a) - 1)
            dut.operands__valid.value = 1
            await RisingEdge(dut.clk)
            while not dut.operands__ready.value:
                await RisingEdge(dut.clk)
    dut.operands__valid.value = 0


async def collect_results(
    dut: HierarchyObject, count: int, backpressure: float, rng: random.Random
) -> list[int]:
    results: list[int] = []
    while len(results) < count:
        dut.result__ready.value = int(rng.random() >= backpressure)
        await ReadOnly()
        if dut.result__valid.value and dut.result__ready.value:
            results.append(dut.result__payload.value.to_signed())
        await RisingEdge(dut.clk)
    return results


def model(vectors: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
    return [int(matmul_acc(a.reshape(1, -1), w.reshape(-1, 1))[0, 0]) for a, w in vectors]


def random_vectors(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    lo, hi = -(1 << (OPERAND_WIDTH - 1)), (1 << (OPERAND_WIDTH - 1)) - 1
    vectors = []
    for k in range(count):
        length = int(rng.integers(1, 40))
        if k % 4 == 0:  # extremes: the largest products, both signs
            a = rng.choice([lo, hi], size=length)
            w = rng.choice([lo, hi], size=length)
        else:
            a = rng.integers(lo, hi, size=length, endpoint=True)
            w = rng.integers(lo, hi, size=length, endpoint=True)
        vectors.append((a, w))
    return vectors


@cocotb.test(timeout_time=2, timeout_unit="ms")  # a lost result fails, never hangs
@cocotb.parametrize(idle=[0.0, 0.4], backpressure=[0.0, 0.5])
async def dot_products_match_model(dut: HierarchyObject, idle: float, backpressure: float) -> None:
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.operands__valid.value = 0
    dut.result__ready.value = 0
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    seed = 1000 + int(idle * 10) * 10 + int(backpressure * 10)
    vectors = random_vectors(np.random.default_rng(seed), 60)
    rng = random.Random(seed)
    cocotb.start_soon(drive_operands(dut, vectors, idle, rng))
    got = await collect_results(dut, len(vectors), backpressure, random.Random(seed + 1))
    want = model(vectors)
    mismatches = [(i, w, g) for i, (w, g) in enumerate(zip(want, got, strict=True)) if w != g]
    assert not mismatches, (
        f"{len(mismatches)} sums differ; first (index, expected, got): {mismatches[0]}"
    )
