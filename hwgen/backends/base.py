"""One interface for every executor of a build: golden, c, cosim, board."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from hwgen.build import Build
from hwgen.progress import Status, quiet

Array = npt.NDArray[np.generic]
Inputs = Mapping[str, npt.ArrayLike]


@dataclass
class RunResult:
    outputs: list[dict[str, Array]]  # one per input, keyed by the graph's output names
    # Busy cycles of each NPU layer, as the backend's NPU counted them (the functional model's
    # cycle model, or the RTL's counters); empty where there is no NPU.
    layer_cycles: dict[str, int] = field(default_factory=dict)
    simulated_cycles: int | None = None  # clock cycles simulated, in a co-simulation
    seconds: float = 0.0  # the run itself, after any build of a library or simulator


class Backend(abc.ABC):
    """Runs a build on inputs. Every backend but golden checks each layer's output against
    the golden model as it is produced, and raises a HwgenError naming the first difference."""

    name: ClassVar[str]
    extra: ClassVar[str | None] = None  # the pip extra whose tools it needs
    summary: ClassVar[str]

    @abc.abstractmethod
    def run(self, build: Build, inputs: Sequence[Inputs], status: Status = quiet) -> RunResult:
        """Outputs for each of `inputs`, in the graph's dtypes and shapes."""
