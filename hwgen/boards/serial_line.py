"""The bridge's serial line on a real port (pyserial): a device such as /dev/ttyUSB1, or any
pyserial URL (socket://host:port for a board on another machine)."""

from __future__ import annotations

import time

import serial

from hwgen.errors import HwgenError


class SerialTransport:
    def __init__(self, port: str, baud: int, timeout: float = 1.0) -> None:
        try:
            self.line = serial.serial_for_url(port, baudrate=baud, timeout=timeout)
        except (serial.SerialException, ValueError) as exc:
            raise HwgenError(f"cannot open serial port '{port}': {exc}") from None
        self.port = port

    def write(self, data: bytes) -> None:
        self.line.write(data)

    def read(self, size: int) -> bytes:
        data = bytes(self.line.read(size))
        if len(data) < size:
            raise TimeoutError(f"{self.port}: {len(data)} of {size} bytes")
        return data

    def drain(self) -> None:
        time.sleep(0.05)
        self.line.reset_input_buffer()

    def close(self) -> None:
        self.line.close()
