"""The host side of the bridge protocol: register reads and writes and data-stream transfers as
framed, checked and, where need be, repeated requests over a byte transport; and the board as
the host C's NPU port on top of them."""

from __future__ import annotations

import ctypes
from typing import Protocol

from hwgen.boards.host_port import MEM_READ, HostReg
from hwgen.boards.protocol import (
    RESPONSE_SYNC,
    Command,
    Status,
    crc16,
    parse_info,
    request,
    response_payload_bytes,
)
from hwgen.errors import HwgenError
from hwgen.npu.csr import STATUS_DONE, Reg


class BridgeError(HwgenError):
    """The board did not answer, or answered with an error."""


class Transport(Protocol):
    """A serial line. `read` returns exactly `size` bytes or raises TimeoutError."""

    def write(self, data: bytes) -> None: ...
    def read(self, size: int) -> bytes: ...
    def drain(self) -> None: ...  # forget what is still arriving


class BridgeClient:
    def __init__(self, transport: Transport, retries: int = 8) -> None:
        self.transport = transport
        self.retries = retries
        self.seq = 0
        self.resent = 0  # requests sent again after a damaged or missing answer
        self.naks = 0  # requests the bridge reported damaged
        self.problems: list[str] = []  # why each request was sent again
        # The first request may repeat the bridge's last sequence number (from an earlier
        # session) and be answered from its copy: a HELLO has no effect either way.
        version, self.buffer_bytes, self.beat_bytes = parse_info(
            int.from_bytes(self._transact(Command.HELLO), "little")
        )
        if version != 1:
            raise BridgeError(f"the board speaks bridge protocol version {version}, not 1")
        self.chunk = self.buffer_bytes - self.buffer_bytes % self.beat_bytes

    def read32(self, offset: int) -> int:
        return int.from_bytes(self._transact(Command.READ32, offset), "little")

    def write32(self, offset: int, value: int) -> None:
        self._transact(Command.WRITE32, offset, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def stream_write(self, data: bytes) -> None:
        if len(data) % self.beat_bytes:
            raise BridgeError(f"{len(data)} bytes are not whole {self.beat_bytes}-byte beats")
        for start in range(0, len(data), self.chunk):
            self._transact(Command.STREAM_WRITE, payload=data[start : start + self.chunk])

    def stream_read(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            n = min(self.chunk, size - len(out))
            out += self._transact(Command.STREAM_READ, length=n)
        return bytes(out)

    def _transact(
        self, cmd: Command, addr: int = 0, payload: bytes = b"", length: int = 0
    ) -> bytes:
        frame = request(self.seq, cmd, addr, payload, length)
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.resent += 1
                self.problems.append(f"{cmd.name} #{self.seq}: {problem}")
                self.transport.drain()
            self.transport.write(frame)
            try:
                status, body = self._answer(cmd, length or len(payload))
            except TimeoutError:
                problem = "no answer"
                continue
            except _Damaged as exc:
                problem = str(exc)
                continue
            if status is Status.CRC_ERROR:
                self.naks += 1
                problem = "the board received the request damaged"
                continue
            self.seq = (self.seq + 1) & 0xFF
            if status is not Status.OK:
                raise BridgeError(f"{cmd.name} at 0x{addr:x}: the board answered {status.name}")
            return body
        raise BridgeError(f"{cmd.name}: {problem}, {self.retries + 1} times")

    def _answer(self, cmd: Command, length: int) -> tuple[Status, bytes]:
        while self.transport.read(1)[0] != RESPONSE_SYNC:
            pass
        head = self.transport.read(2)
        try:
            status = Status(head[1])
        except ValueError:
            raise _Damaged(f"unknown status {head[1]}") from None
        body = self.transport.read(response_payload_bytes(cmd, status, length) + 2)
        if crc16(head + body[:-2]) != int.from_bytes(body[-2:], "big"):
            raise _Damaged("an answer failed its CRC")
        if head[0] != self.seq:
            raise _Damaged(f"an answer to request {head[0]}, not {self.seq}")
        return status, body[:-2]


class _Damaged(Exception):
    pass


class BoardPort:
    """The NpuPort of a board (hwgen.backends.host_program): registers over the bridge, a wait
    that polls STATUS, and system memory mirrored: the host C's array is the CPU's copy, the
    board's RAM the NPU's, and flush and invalidate copy ranges between them over the bridge's
    data stream (the host port, hwgen.boards.host_port)."""

    def __init__(self, client: BridgeClient, polls: int = 1 << 20) -> None:
        self.client = client
        self.polls = polls
        self.base = 0
        self.size = 0

    def read32(self, offset: int) -> int:
        return self.client.read32(offset)

    def write32(self, offset: int, value: int) -> None:
        self.client.write32(offset, value)

    def wait(self) -> None:
        for _ in range(self.polls):
            if self.client.read32(Reg.STATUS) & STATUS_DONE:
                return
        raise BridgeError("the NPU did not finish its program")

    def attach(self, address: int, size: int) -> None:
        capacity = self.client.read32(HostReg.MEM_BYTES)
        if size > capacity:
            raise BridgeError(
                f"the network needs {size:,} bytes of system memory; the board has {capacity:,}"
            )
        self.base, self.size = address, size

    def _span(self, offset: int, size: int) -> tuple[int, int]:
        """Whole beats around [offset, offset + size) (buffers are 64-byte aligned: the beats
        lie in the same buffer)."""
        beat = self.client.beat_bytes
        first = offset - offset % beat
        end = min(-(-(offset + size) // beat) * beat, self.size)
        return first, end - first

    def flush(self, offset: int, size: int) -> None:
        first, length = self._span(offset, size)
        if length:
            self.client.write32(HostReg.MEM_ADDR, first)
            self.client.stream_write(ctypes.string_at(self.base + first, length))

    def invalidate(self, offset: int, size: int) -> None:
        first, length = self._span(offset, size)
        if length:
            self.client.write32(HostReg.MEM_ADDR, first)
            self.client.write32(HostReg.MEM_COUNT, length // self.client.beat_bytes)
            self.client.write32(HostReg.MEM_CTRL, MEM_READ)
            ctypes.memmove(self.base + first, self.client.stream_read(length), length)
