"""Implicit im2col: walks a convolution (or GEMM) one M x M step per cycle.

Loop order: output channel block j, output pixel (oh, ow), then the reduction (ky, kx, cb). Per
step it gives the activation vector address (or `pad` for a tap outside the image), the weight
block address and whether it ends a row; per row (the last step of a pixel) it names the output
address and the row's first parameter word.

Addresses are walked with adders: each loop level keeps the address where its current iteration
starts and steps it by a constant that CommandSetup derived once per command (no multiplier
between a counter and a memory port). Addresses are modulo 2^k for their k bits, like the
steps; a tap outside the image gets some address, and `pad` says not to use it.
"""

from __future__ import annotations

from typing import Any

from amaranth import Cat, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for

from hwgen.npu.command_setup import derived_layout
from hwgen.npu.config import NpuConfig
from hwgen.npu.descriptor import CONV_DESCRIPTOR, SMALL


class AddressGenerator(wiring.Component):
    def __init__(self, config: NpuConfig) -> None:
        """Bank 1 of the activations is addressed above bank 0. `cmd` and `derived` must hold
        still from the cycle before `start` until the walk is over.

        Addresses and counters are as wide as the memories they address and the command
        checks allow (CommandSetup refuses a command that runs past a memory): an address
        walked modulo 2^k has the same low k bits as one walked modulo 2^product_width (the
        steps' width), and those are all a memory port takes."""
        self.config = config
        self.act_addr = unsigned(bits_for(2 * config.act_depth - 1))
        self.weight_addr = unsigned(bits_for(config.weight_words - 1))
        self.out_addr = unsigned(bits_for(config.out_words - 1))
        self.param_addr = unsigned(bits_for(config.param_words - 1))
        step = data.StructLayout(
            {
                "act_addr": self.act_addr,
                "pad": 1,
                "weight_addr": self.weight_addr,
                "last": 1,
                "out_addr": self.out_addr,
                "param_addr": self.param_addr,
            }
        )
        super().__init__(
            {
                "cmd": In(CONV_DESCRIPTOR),
                "derived": In(derived_layout(config)),
                "start": In(1),
                "en": In(1),
                "valid": Out(1),
                "step": Out(step),
                "running": Out(1),
            }
        )

    def counter_limits(self) -> dict[str, int]:
        """The largest value each loop's size can have in a command the checks let run."""
        cfg = self.config
        kernel_max = (1 << SMALL.width) - 1
        return {
            "cin_blocks": cfg.act_depth,  # in_h * in_w * cin_blocks words fit a bank
            "kernel_w": kernel_max,  # the descriptor's field
            "kernel_h": kernel_max,
            "out_w": cfg.out_words,  # out_h * out_w * cout_blocks words fit the outputs
            "out_h": cfg.out_words,
            "cout_blocks": min(cfg.out_words, cfg.param_words // cfg.array),
        }

    def elaborate(self, platform: object) -> Module:
        m = Module()
        # Read where they are, not copied: the core holds both still for the whole command.
        cmd = self.cmd
        steps = self.derived
        limits = self.counter_limits()
        # The walk's registers have no reset: IDLE loads them every cycle. An iCE40 flip-flop
        # resets only when enabled, so a reset joins every enable, and from the reset through
        # the walk's enables ran the iCEBreaker's critical path (five logic levels).
        j, oh, ow, ky, kx, cb = (
            Signal(range(limits[n] + 1), name=short, reset_less=True)
            for n, short in (
                ("cout_blocks", "j"),
                ("out_h", "oh"),
                ("out_w", "ow"),
                ("kernel_h", "ky"),
                ("kernel_w", "kx"),
                ("cin_blocks", "cb"),
            )
        )
        ih_base = Signal(signed(18), name="ih_base", reset_less=True)
        iw_base = Signal(signed(18), name="iw_base", reset_less=True)  # oh*sh - pt, ow*sw - pl
        # The tap's input row and column, ih_base + ky*dh and iw_base + kx*dw, kept as registers
        # and stepped with their loops: the pad test compares registers, with no adder before it.
        ih = Signal(signed(18), name="ih", reset_less=True)
        iw = Signal(signed(18), name="iw", reset_less=True)
        # (ky*kw + kx)*Cb + cb: the step within the row
        tap = Signal(self.weight_addr, reset_less=True)
        weight_row = Signal(self.weight_addr, reset_less=True)  # weight_base + j*KB
        pixel_out = Signal(self.out_addr, reset_less=True)  # (oh*OW + ow)*Cob
        param_row = Signal(self.param_addr, reset_less=True)  # param_base + j*M
        # act_base + (ih*in_w + iw)*Cb where the current iteration of each loop starts.
        origin, line, pixel, kernel_row, tap_addr = (
            Signal(self.act_addr, name=name, reset_less=True)
            for name in ("origin", "line", "pixel", "kernel_row", "tap_addr")
        )
        # Each chain, outermost first: the address, and the tap's input row and column.
        chains = [[line, pixel, kernel_row, tap_addr], [ih_base, ih], [iw_base, iw]]

        def enter(level: Signal, value: Value) -> list[Any]:
            """A new iteration of `level` starts at `value`, and so do the levels inside it."""
            # By identity: == between signals builds a comparison, not a bool.
            for chain in chains:
                for k, candidate in enumerate(chain):
                    if candidate is level:
                        return [inner.eq(value) for inner in chain[k:]]
            raise AssertionError(f"{level.name} is in no chain")

        next_kernel_row = kernel_row + steps.row_step.value
        next_pixel = pixel + steps.pixel_step.value
        next_line = line + steps.line_step.value

        pad = (ih < 0) | (ih >= cmd.in_h) | (iw < 0) | (iw >= cmd.in_w)
        # Whether each loop is at its last index, and whether it and every loop inside it are
        # (the carry into the next loop out), are registers: the step that decides which loops
        # wrap, and the enables of their registers, see no comparator or wide AND. A counter
        # that steps sets its flag by comparing its value before the step with the index
        # before last; one that wraps to 0, to whether its loop has one iteration. Both come
        # from the command (below).
        counters = {
            "cin_blocks": cb,
            "kernel_w": kx,
            "kernel_h": ky,
            "out_w": ow,
            "out_h": oh,
            "cout_blocks": j,
        }
        names = list(counters)  # innermost first
        at_last = {name: Signal(name=f"last_{name}") for name in names}
        next_last = {name: Signal(name=f"next_last_{name}") for name in names}
        carry = [Signal(name=f"carry_{name}") for name in names]
        single = {name: Signal(name=f"single_{name}") for name in names}
        before_last = {
            name: Signal.like(counters[name], name=f"before_last_{name}") for name in names
        }
        m.d.comb += [next_last[name].eq(at_last[name]) for name in names]
        m.d.sync += [at_last[name].eq(next_last[name]) for name in names]
        for k, c in enumerate(carry):
            inner = [next_last[name] for name in names[: k + 1]]
            m.d.sync += c.eq(Cat(*inner).all())

        def stepped(name: str) -> Any:
            return next_last[name].eq(counters[name] == before_last[name])

        def wrapped(name: str) -> Any:
            return next_last[name].eq(single[name])

        def carry_out(k: int) -> None:
            """Loop k wraps to 0 and the loop around it steps."""
            inner, outer = names[k], names[k + 1]
            m.d.sync += [counters[inner].eq(0), counters[outer].eq(counters[outer] + 1)]
            m.d.comb += [wrapped(inner), stepped(outer)]

        last_tap = carry[2]

        # What the walk starts from, registered every cycle from the command (which holds
        # still from the cycle before `start`): the adders and comparators then lie before
        # flip-flops of their own rather than before the registers `start` loads. Where the
        # walk starts takes three adders in a row.
        for name in names:
            m.d.sync += [single[name].eq(cmd[name] == 1), before_last[name].eq(cmd[name] - 2)]
        step = Signal.like(self.step, name="step_reg", reset_less=True)
        m.d.comb += self.step.eq(step)
        first = Signal(self.act_addr, name="first", reset_less=True)
        bank_base = Mux(cmd.act_bank, self.config.act_depth, 0)
        m.d.sync += first.eq(bank_base + cmd.act_base - steps.pad_rows.value - steps.pad_cols.value)
        # The tap's row and column where an output row (or the first pixel) starts.
        first_row, first_col = -cmd.pad_top, -cmd.pad_left

        with m.FSM():
            with m.State("IDLE"):
                # The walk's registers follow the command while idle, and `start` only
                # enters RUN: it reaches the state, not every register the walk loads.
                m.d.comb += [next_last[name].eq(single[name]) for name in names]
                m.d.sync += [
                    origin.eq(first),
                    *enter(line, first),
                    j.eq(0),
                    oh.eq(0),
                    ow.eq(0),
                    ky.eq(0),
                    kx.eq(0),
                    cb.eq(0),
                    *enter(ih_base, first_row),
                    *enter(iw_base, first_col),
                    tap.eq(0),
                    weight_row.eq(cmd.weight_base),
                    pixel_out.eq(0),
                    param_row.eq(cmd.param_base),
                ]
                with m.If(self.start):
                    m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += self.running.eq(1)
                with m.If(self.en):
                    m.d.sync += [
                        self.valid.eq(1),
                        step.act_addr.eq(tap_addr + cb),
                        step.pad.eq(pad),
                        step.weight_addr.eq(weight_row + tap),
                        step.last.eq(last_tap),
                        step.out_addr.eq(cmd.out_base + pixel_out + j),
                        step.param_addr.eq(param_row),
                    ]
                    # Advance the loop nest, innermost first; a loop that wraps overrides what
                    # the loops inside it did.
                    m.d.sync += [cb.eq(cb + 1), tap.eq(tap + 1)]
                    m.d.comb += stepped("cin_blocks")
                    with m.If(carry[0]):
                        carry_out(0)
                        m.d.sync += [
                            *enter(iw, iw + cmd.dilation_w),
                            *enter(tap_addr, tap_addr + steps.col_step.value),
                        ]
                    with m.If(carry[1]):
                        carry_out(1)
                        m.d.sync += [
                            *enter(iw, iw_base),
                            *enter(ih, ih + cmd.dilation_h),
                            *enter(kernel_row, next_kernel_row),
                        ]
                    with m.If(carry[2]):
                        carry_out(2)
                        m.d.sync += [
                            *enter(ih, ih_base),
                            tap.eq(0),
                            *enter(iw_base, iw_base + cmd.stride_w),
                            pixel_out.eq(pixel_out + cmd.cout_blocks),
                            *enter(pixel, next_pixel),
                        ]
                    with m.If(carry[3]):
                        carry_out(3)
                        m.d.sync += [
                            *enter(iw_base, first_col),
                            *enter(ih_base, ih_base + cmd.stride_h),
                            *enter(line, next_line),
                        ]
                    with m.If(carry[4]):
                        carry_out(4)
                        m.d.sync += [
                            *enter(ih_base, first_row),
                            pixel_out.eq(0),
                            weight_row.eq(weight_row + steps.reduction.value),
                            param_row.eq(param_row + self.config.array),
                            *enter(line, origin),
                        ]
                    with m.If(carry[5]):
                        m.next = "IDLE"
        # Outside RUN the step register empties once the pipeline has taken it.
        with m.If(self.en & ~self.running):
            m.d.sync += self.valid.eq(0)
        return m
