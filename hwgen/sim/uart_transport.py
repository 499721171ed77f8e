"""The bridge's serial line in a cocotb simulation (cocotbext-uart), as the blocking Transport
of hwgen.boards.client, for code running in a cocotb bridge thread."""

from __future__ import annotations

import logging

from cocotb.handle import HierarchyObject
from cocotb.task import resume
from cocotb.triggers import SimTimeoutError, with_timeout
from cocotbext.uart import UartSink, UartSource


class UartTransport:
    def __init__(
        self, rx: HierarchyObject, tx: HierarchyObject, baud: int, timeout_ns: int
    ) -> None:
        for line in (rx, tx):  # cocotbext-uart logs every byte at INFO
            logging.getLogger(f"cocotb.{line._path}").setLevel(logging.WARNING)
        self.source = UartSource(rx, baud=baud)
        self.sink = UartSink(tx, baud=baud)
        self.timeout_ns = timeout_ns
        self.bit_ns = round(1e9 / baud)
        # Test hooks: damage the n-th frame written, or the n-th byte read (0-based).
        self.damage_writes: set[int] = set()
        self.damage_reads: set[int] = set()
        self.writes = 0
        self.reads = 0

    def write(self, data: bytes) -> None:
        frame = bytearray(data)
        if self.writes in self.damage_writes:
            frame[len(frame) // 2] ^= 0x10
        self.writes += 1
        self._write(bytes(frame))

    def read(self, size: int) -> bytes:
        out = bytearray()
        for _ in range(size):
            byte = self._read_byte()
            if self.reads in self.damage_reads:
                byte ^= 0x04
            self.reads += 1
            out.append(byte)
        return bytes(out)

    def drain(self) -> None:
        self._drain()

    @resume
    async def _write(self, data: bytes) -> None:
        await self.source.write(data)
        await self.source.wait()

    @resume
    async def _read_byte(self) -> int:
        try:
            got = await with_timeout(self.sink.read(1), self.timeout_ns, "ns")
        except SimTimeoutError:
            raise TimeoutError("no byte from the board") from None
        return int(got[0])

    @resume
    async def _drain(self) -> None:
        # Until the line has been quiet for a few byte times.
        while True:
            self.sink.clear()
            await self.sink.wait(40 * self.bit_ns, "ns")
            if self.sink.empty():
                return
