"""The `c` backend: the build's host C as a shared library, its NPU calls answered by the
functional NPU model, every layer checked against golden."""

from __future__ import annotations

from collections.abc import Sequence

from hwgen.backends.base import Backend, Inputs, RunResult
from hwgen.backends.functional_npu import FunctionalNpu
from hwgen.backends.host import host_library, run_host_checked
from hwgen.build import Build
from hwgen.progress import Status, quiet


class CBackend(Backend):
    name = "c"
    summary = "the generated host C with a functional NPU behind its HAL"

    def __init__(self, *, sanitize: bool = False) -> None:
        self.sanitize = sanitize

    def run(self, build: Build, inputs: Sequence[Inputs], status: Status = quiet) -> RunResult:
        with status("building the host C"):
            library = host_library(build.network, sanitize=self.sanitize)
        with status("running the host C with the functional NPU"):
            return run_host_checked(
                build, library, FunctionalNpu(build.config), inputs, "the c backend"
            )
