"""The NpuConfig of a testbench, passed from its pytest runner through the environment."""

from __future__ import annotations

import json
import os

from hwgen.npu.config import NpuConfig

VARIABLE = "NPU_CONFIG"


def encode(config: NpuConfig) -> dict[str, str]:
    return {VARIABLE: json.dumps(config.as_dict())}


def decode() -> NpuConfig:
    return NpuConfig.from_dict(json.loads(os.environ[VARIABLE]))
