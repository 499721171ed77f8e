"""The bridge's framing protocol, shared by the RTL (hwgen/boards/bridge.py) and the host
(hwgen/boards/client.py). docs/bridge.md describes it.

Request:  0x5A | seq | cmd | len (2, LE) | addr (4, LE) | payload (len bytes for writes) | crc
Response: 0xA5 | seq | status | payload | crc

`crc` is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, as `binascii.crc_hqx`) over everything
after the sync byte, sent most significant byte first. A request whose `seq` equals the last
executed one is answered again from the bridge's copy of that answer, not executed again, so a
host may resend whatever it did not get a good answer to.
"""

from __future__ import annotations

import binascii
import enum

REQUEST_SYNC = 0x5A
RESPONSE_SYNC = 0xA5
VERSION = 1
HEADER_BYTES = 8  # seq, cmd, len (2), addr (4)


class Command(enum.IntEnum):
    HELLO = 0  # answers the bridge's info word (VERSION, buffer size, beat bytes)
    READ32 = 1  # an AXI4-Lite read at addr; answers 4 bytes
    WRITE32 = 2  # an AXI4-Lite write of the 4-byte payload at addr
    STREAM_WRITE = 3  # the payload as AXI4-Stream beats into the NPU's data port
    STREAM_READ = 4  # len bytes from the NPU's output stream; answers them


class Status(enum.IntEnum):
    OK = 0
    CRC_ERROR = 1  # the request was damaged; nothing was done
    BAD_REQUEST = 2  # unknown command or a length it cannot take; nothing was done
    BUS_ERROR = 3  # the NPU answered SLVERR
    TIMEOUT = 4  # the NPU's output stream ran dry before len bytes


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    return binascii.crc_hqx(data, crc)


def info_word(buffer_bytes: int, beat_bytes: int) -> int:
    return VERSION | (buffer_bytes.bit_length() - 1) << 8 | beat_bytes << 16


def parse_info(word: int) -> tuple[int, int, int]:
    """(version, buffer bytes, beat bytes)."""
    return word & 0xFF, 1 << ((word >> 8) & 0xFF), (word >> 16) & 0xFF


def request(seq: int, cmd: Command, addr: int = 0, payload: bytes = b"", length: int = 0) -> bytes:
    body = bytes([seq & 0xFF, cmd]) + (length or len(payload)).to_bytes(2, "little")
    body += (addr & 0xFFFFFFFF).to_bytes(4, "little") + payload
    return bytes([REQUEST_SYNC]) + body + crc16(body).to_bytes(2, "big")


def response_payload_bytes(cmd: Command, status: Status, length: int) -> int:
    if status is not Status.OK:
        return 0
    if cmd in (Command.HELLO, Command.READ32):
        return 4
    return length if cmd is Command.STREAM_READ else 0
