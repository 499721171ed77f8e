"""Error codes the NPU reports for a program it stops (CSR STATUS.error), with the index of
the command at fault (CSR ERROR_COMMAND)."""

from __future__ import annotations

import enum


class NpuError(enum.IntEnum):
    NONE = 0
    ZERO_DIMENSION = 1  # a COMPUTE with a size, kernel, stride or dilation of 0
    ACT_RANGE = 2  # a COMPUTE's input tensor runs past its activation bank
    WEIGHT_RANGE = 3  # its weight blocks run past the weight memory
    # its channels' parameters run past the parameter memory, or start off requant lane 0
    PARAM_RANGE = 4
    OUT_RANGE = 5  # its output tensor runs past the output memory
    BAD_COMMAND = 6  # an opcode or buffer that does not exist
    ALIGNMENT = 7  # a LOAD's or STORE's address or stride not a whole number of beats
    OUT_OF_BANK = 8  # a LOAD or STORE past the end of its bank
    BUS_ERROR = 9  # system memory answered an error (an address it does not have)
    PROGRAM_SIZE = 10  # no commands, or more than the command memory holds
