"""The NpuConfig of a testbench, passed from its pytest runner through the environment."""

from __future__ import annotations

import json
import os

from hwgen.npu.config import NpuConfig, RequantMode

VARIABLE = "NPU_CONFIG"


def encode(config: NpuConfig) -> dict[str, str]:
    fields = {k: (v.value if isinstance(v, RequantMode) else v) for k, v in vars(config).items()}
    return {VARIABLE: json.dumps(fields)}


def decode() -> NpuConfig:
    fields = json.loads(os.environ[VARIABLE])
    fields["requant"] = RequantMode(fields["requant"])
    return NpuConfig(**fields)
