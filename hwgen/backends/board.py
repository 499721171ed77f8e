"""The `board` backend: the build's host C on this machine, its NPU calls sent to a board over
the UART bridge (docs/bridge.md), every layer checked against golden."""

from __future__ import annotations

from collections.abc import Sequence

from hwgen.backends.base import Backend, Inputs, RunResult
from hwgen.backends.host import host_library, run_host_checked
from hwgen.boards.client import BoardPort, BridgeClient, BridgeError
from hwgen.boards.targets import board as find_board
from hwgen.build import Build
from hwgen.errors import HwgenError
from hwgen.npu.config import NpuConfig
from hwgen.npu.csr import HwConfig, Reg
from hwgen.progress import Status, quiet


def check_board(word: int, config: NpuConfig) -> None:
    """The bitstream on the board must be the NPU this network was compiled for."""
    found, wanted = HwConfig.decode(word), HwConfig.of(config)
    if found != wanted:
        raise HwgenError(
            f"the board's NPU is {found.describe()}, this build needs {wanted.describe()}: "
            "build its bitstream with hwgen fpga from this build"
        )


def check_fits(build: Build) -> None:
    """A build for a board whose system memory cannot hold its NPU image and L2 is refused
    before the board is touched."""
    if build.options.board is None:
        return  # the board answers how much it has (hwgen.boards.client.BoardPort)
    board = find_board(build.options.board)
    need = build.manifest.sysmem_bytes
    if need > board.sysmem_bytes:
        raise HwgenError(
            f"the network needs {need:,} bytes of system memory (its NPU image and L2), the "
            f"{board.name} has {board.sysmem_bytes:,} behind its bridge: it runs on the c and "
            "cosim backends, not on this board"
        )


class BoardBackend(Backend):
    name = "board"
    summary = "the generated host C driving a board built by hwgen fpga, over its serial port"

    def __init__(self, port: str, baud: int = 1_000_000) -> None:
        self.port = port
        self.baud = baud

    def run(self, build: Build, inputs: Sequence[Inputs], status: Status = quiet) -> RunResult:
        from hwgen.boards.serial_line import SerialTransport

        check_fits(build)
        with status("building the host C"):
            library = host_library(build.network)
        line = SerialTransport(self.port, self.baud)
        try:
            with status(f"talking to the board on {self.port}"):
                client = BridgeClient(line)
                check_board(client.read32(Reg.HW_CONFIG), build.config)
            with status(f"running on the board at {self.port}"):
                port = BoardPort(client)
                return run_host_checked(build, library, port, inputs, "the board")
        except BridgeError as exc:
            raise HwgenError(
                f"board on {self.port}: {exc.reason} (is the bitstream from hwgen fpga loaded, "
                f"and its bridge at {self.baud} baud?)"
            ) from None
        finally:
            line.close()
