"""cocotb tests of the NPU behind its UART bridge: the host side of the protocol
(hwgen.boards.client) over a simulated serial line, with damaged frames in both directions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.task import bridge
from cocotb.triggers import ClockCycles

from hwgen.backends import golden
from hwgen.backends.host_program import HostProgram
from hwgen.boards.client import BoardPort, BridgeClient, BridgeError
from hwgen.boards.host_port import HostReg
from hwgen.boards.protocol import Command, Status, request
from hwgen.build import Build
from hwgen.npu.csr import MAGIC, Reg
from hwgen.sim.uart_transport import UartTransport

CLOCK_NS = 10


def _job() -> dict[str, Any]:
    return dict(json.loads(Path(os.environ["HWGEN_BRIDGE_JOB"]).read_text()))


async def _start(dut: Any) -> UartTransport:
    job = _job()
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rx.value = 1
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 2)
    baud = round(1e9 / (CLOCK_NS * job["divisor"]))
    # Longer than the bridge's own mid-frame timeout plus the longest answer.
    timeout_ns = CLOCK_NS * (job["byte_timeout"] + 2 * job["stream_timeout"])
    return UartTransport(dut.rx, dut.tx, baud, timeout_ns)


@cocotb.test()
async def registers_errors_and_damage(dut: Any) -> None:
    line = await _start(dut)

    @bridge
    def exercise() -> dict[str, Any]:
        client = BridgeClient(line)
        seen: dict[str, Any] = {"beat": client.beat_bytes, "buffer": client.buffer_bytes}
        seen["id"] = client.read32(Reg.ID)
        client.write32(HostReg.MEM_COUNT, 0x12345678)
        seen["count"] = client.read32(HostReg.MEM_COUNT)
        seen["memory"] = client.read32(HostReg.MEM_BYTES)
        try:
            client.write32(Reg.ID, 1)
        except BridgeError as exc:
            seen["bus_error"] = str(exc)
        try:
            client.stream_read(client.beat_bytes)  # nothing was asked of the memory
        except BridgeError as exc:
            seen["timeout"] = str(exc)
        # A request the bridge cannot take: a stream write of a partial beat.
        line.write(request(client.seq, Command.STREAM_WRITE, payload=b"\x01\x02\x03"))
        seen["bad_request"] = client._answer(Command.STREAM_WRITE, 3)[0]
        client.seq = (client.seq + 1) & 0xFF
        # A damaged request is refused and sent again; a damaged answer is asked for again
        # and answered from the bridge's copy, so the write happens once.
        line.damage_writes.add(line.writes)
        client.write32(HostReg.MEM_COUNT, 7)
        seen["naks"] = client.naks
        line.damage_reads.add(line.reads + 2)
        seen["count_after_damage"] = client.read32(HostReg.MEM_COUNT)
        seen["resent"] = client.resent
        return seen

    seen = await exercise()
    assert seen["id"] == MAGIC, hex(seen["id"])
    assert seen["count"] == 0x12345678
    assert seen["memory"] == _job()["sysmem_bytes"]
    assert "BUS_ERROR" in seen["bus_error"], seen
    assert "TIMEOUT" in seen["timeout"], seen
    assert seen["bad_request"] is Status.BAD_REQUEST
    assert seen["naks"] == 1
    assert seen["count_after_damage"] == 7
    assert seen["resent"] == 2


@cocotb.test()
async def network_through_the_uart(dut: Any) -> None:
    """The network's host C drives the NPU only through the bridge; every layer is checked
    against golden as it is produced, with frames damaged on the way."""
    job = _job()
    line = await _start(dut)
    built = Build.open(job["build"])
    graph = built.graph
    rng = np.random.default_rng(3)
    shape = tuple(graph.tensors[graph.inputs[0]].shape)
    x = rng.uniform(-1.5, 1.5, size=shape).astype(np.float32)

    @bridge
    def run() -> tuple[dict[str, np.ndarray], BridgeClient]:
        client = BridgeClient(line)
        line.damage_writes.update({3, 9})  # a stretch of the NPU image and a register write
        line.damage_reads.update({100, 300})
        program = HostProgram(Path(job["library"]), built.network, graph, BoardPort(client))
        return program.run_checked({graph.inputs[0]: x}), client

    outputs, client = await run()
    want = golden.run(graph, {graph.inputs[0]: x})
    for key, value in want.items():
        np.testing.assert_array_equal(outputs[key].view(np.uint32), value.view(np.uint32))
    # Both damaged requests refused by the bridge, both damaged answers caught by the host.
    assert line.reads > 300, line.reads
    assert client.naks == 2, client.problems
    assert sum("answer" in p for p in client.problems) == 2, client.problems
    Path(job["result"]).write_text(
        json.dumps(
            {
                "naks": client.naks,
                "problems": client.problems,
                "frames": line.writes,
                "read": line.reads,
            }
        )
    )
