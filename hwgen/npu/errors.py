"""Error codes the NPU reports for a command it refuses (CSR STATUS.error)."""

from __future__ import annotations

import enum


class NpuError(enum.IntEnum):
    NONE = 0
    ZERO_DIMENSION = 1  # a size, kernel, stride or dilation of 0
    ACT_RANGE = 2  # the input tensor runs past the activation buffer
    WEIGHT_RANGE = 3  # the weight blocks run past the weight memory
    PARAM_RANGE = 4  # the channels' parameters run past the parameter memory
    OUT_RANGE = 5  # the output tensor runs past the output buffer
