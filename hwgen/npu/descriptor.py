"""The command descriptor of a GEMM / convolution, as the sequencer and the CSRs see it."""

from __future__ import annotations

from amaranth import signed, unsigned
from amaranth.lib import data
from amaranth.utils import bits_for

from hwgen.npu.config import NpuConfig

DIM = unsigned(16)
ADDR = unsigned(16)
SMALL = unsigned(8)

# Field order is the CSR order: field k is CSR word DESCRIPTOR_BASE + k.
CONV_DESCRIPTOR = data.StructLayout(
    {
        "in_h": DIM,
        "in_w": DIM,
        "cin_blocks": DIM,
        "out_h": DIM,
        "out_w": DIM,
        "cout_blocks": DIM,
        "kernel_h": SMALL,
        "kernel_w": SMALL,
        "stride_h": SMALL,
        "stride_w": SMALL,
        "pad_top": SMALL,
        "pad_left": SMALL,
        "dilation_h": SMALL,
        "dilation_w": SMALL,
        "act_bank": unsigned(1),
        "act_base": ADDR,
        "weight_base": ADDR,
        "param_base": ADDR,
        "out_base": ADDR,
        "pad_value": signed(8),
    }
)


def register_widths(config: NpuConfig) -> dict[str, int]:
    """Bits each field's CSR keeps. A field that only a refused command can take beyond some
    limit keeps bits_for(limit + 1) bits, and a larger write keeps all ones: still above the
    limit, so it fails the very checks the written value fails, with the same error code.
    The limit is the largest depth among the range checks the field enters (a product of
    positive fields is at least each of them; a base, at least its size of one)."""
    act, weight, out, params = (
        config.act_depth,
        config.weight_words,
        config.out_words,
        config.param_words,
    )
    limits = {
        "in_h": act,
        "in_w": act,
        "cin_blocks": max(act, weight),
        "out_h": out,
        "out_w": out,
        "cout_blocks": max(weight, params, out),
        "act_base": act,
        "weight_base": weight,
        "param_base": params,
        "out_base": out,
    }
    widths = {}
    for name, field in CONV_DESCRIPTOR:
        width = field.shape.width
        if name in limits:
            width = min(width, bits_for(limits[name] + 1))
        widths[name] = width
    return widths
