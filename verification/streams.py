"""Driving a valid/ready stream pair from Python, with random idle cycles on the input and
random backpressure on the output."""

from __future__ import annotations

import random
from collections.abc import Sequence

from cocotb.handle import HierarchyObject
from cocotb.triggers import ReadOnly, RisingEdge


async def stream_through(
    dut: HierarchyObject,
    source: str,
    sink: str,
    words: Sequence[int],
    *,
    idle: float,
    backpressure: float,
    seed: int,
    max_cycles: int,
) -> list[int]:
    """Send every word into `source`, return every payload that leaves `sink`, in order.

    Values are driven just after a rising edge and sampled once they settle before the next,
    so a transfer is exactly a cycle with valid and ready both high.
    """
    rng = random.Random(seed)
    valid = getattr(dut, f"{source}__valid")
    payload = getattr(dut, f"{source}__payload")
    ready_in = getattr(dut, f"{source}__ready")
    out_valid = getattr(dut, f"{sink}__valid")
    out_payload = getattr(dut, f"{sink}__payload")
    out_ready = getattr(dut, f"{sink}__ready")
    received: list[int] = []
    sent = 0
    driving = False
    accepting = False
    valid.value = 0
    out_ready.value = 0
    for _ in range(max_cycles):
        await ReadOnly()
        if driving and ready_in.value:
            sent += 1
            driving = False
        if accepting and out_valid.value:
            received.append(int(out_payload.value))
        if len(received) == len(words):
            break
        await RisingEdge(dut.clk)
        if not driving and sent < len(words) and rng.random() >= idle:
            payload.value = words[sent]
            driving = True
        valid.value = int(driving)
        accepting = rng.random() >= backpressure
        out_ready.value = int(accepting)
    else:
        raise AssertionError(f"{len(received)} of {len(words)} results after {max_cycles} cycles")
    await RisingEdge(dut.clk)
    valid.value = 0
    out_ready.value = 0
    return received
