"""The command descriptor of a GEMM / convolution, as the sequencer and the CSRs see it."""

from __future__ import annotations

from amaranth import signed, unsigned
from amaranth.lib import data

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
