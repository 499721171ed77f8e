"""Random NPU memory contents and commands, and their packing into memory words: shared by the
core testbenches (cocotb) and the fast Amaranth-simulator checks."""

from __future__ import annotations

import numpy as np

from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.core import param_layout
from hwgen.npu.words import lanes_word, word_lanes
from hwgen.sim_models.npu import ConvCommand, NpuMemories
from hwgen.sim_models.requant import split_float32
from verification.packing import pack

vector_word = lanes_word
word_bytes = word_lanes


def param_word(config: NpuConfig, mem: NpuMemories, channel: int) -> int:
    fields = {name: int(values[channel]) for name, values in mem.params.items()}
    return pack(param_layout(config), {"bias": int(mem.bias[channel]), "params": fields})


def random_memories(config: NpuConfig, rng: np.random.Generator) -> NpuMemories:
    mem = NpuMemories.empty(config)
    mem.act[:] = rng.integers(-128, 128, size=mem.act.shape)
    mem.weights[:] = rng.integers(-128, 128, size=mem.weights.shape)
    n = config.param_words
    mem.bias[:] = rng.integers(-(2**20), 2**20, size=n)
    signed = rng.integers(0, 2, size=n).astype(bool)
    lower = np.where(signed, -128, 0)
    upper = np.where(signed, 127, 255)
    zp = np.where(signed, rng.integers(-128, 128, size=n), rng.integers(0, 256, size=n))
    relu = rng.integers(0, 4, size=n) == 0
    lower = np.where(relu, np.maximum(lower, zp), lower)
    if config.requant is RequantMode.ORT:
        # Multipliers that spread a typical accumulator over the output range.
        mult = np.exp(rng.uniform(np.log(2.0**-16), np.log(2.0**-8), size=n)).astype(np.float32)
        parts = [split_float32(float(v)) for v in mult]
        mem.params["mantissa"][:] = [p[0] for p in parts]
        mem.params["exponent"][:] = [p[1] for p in parts]
        mem.params["zero_point"][:] = zp
    else:
        mem.params["mul"][:] = rng.integers(1, 2**12, size=n)
        mem.params["shift"][:] = rng.integers(16, 24, size=n)
        mem.params["add"][:] = (1 << (mem.params["shift"] - 1)) + (zp << mem.params["shift"])
    mem.params["lower"][:] = lower
    mem.params["upper"][:] = upper
    return mem


def random_command(
    config: NpuConfig, rng: np.random.Generator, *, max_size: int = 7
) -> ConvCommand:
    """A convolution or GEMM with random geometry that fits the memories."""
    m = config.array
    while True:
        if rng.random() < 0.3:
            rows = int(rng.integers(1, 4 * max_size))
            cmd = ConvCommand.gemm(rows, int(rng.integers(1, 5)), int(rng.integers(1, 4)))
        else:
            kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            sh, sw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
            dh, dw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
            h, w = int(rng.integers(1, max_size + 1)), int(rng.integers(1, max_size + 1))
            pt, pl = int(rng.integers(0, kh)), int(rng.integers(0, kw))
            pb, pr = int(rng.integers(0, kh)), int(rng.integers(0, kw))
            oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
            ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
            if oh < 1 or ow < 1:
                continue
            cmd = ConvCommand(
                h,
                w,
                int(rng.integers(1, 4)),
                oh,
                ow,
                int(rng.integers(1, 4)),
                kh,
                kw,
                sh,
                sw,
                pt,
                pl,
                dh,
                dw,
            )
        acts = cmd.in_h * cmd.in_w * cmd.cin_blocks
        outs = cmd.rows
        if (
            acts > config.act_depth
            or outs > config.out_words
            or cmd.cout_blocks * cmd.reduction_blocks > config.weight_words
            or cmd.cout_blocks * m > config.param_words
        ):
            continue
        return ConvCommand(
            **{
                **cmd.as_dict(),
                "act_bank": int(rng.integers(0, 2)),
                "act_base": int(rng.integers(0, config.act_depth - acts + 1)),
                "weight_base": int(
                    rng.integers(
                        0, config.weight_words - cmd.cout_blocks * cmd.reduction_blocks + 1
                    )
                ),
                # Any channel of requant lane 0 (each lane reads its own memory).
                "param_base": config.requant_lanes
                * int(
                    rng.integers(
                        0, (config.param_words - cmd.cout_blocks * m) // config.requant_lanes + 1
                    )
                ),
                "out_base": int(rng.integers(0, config.out_words - outs + 1)),
                "pad_value": int(rng.integers(-128, 128)),
            }
        )
