"""NpuConfig refuses what cannot be built, before any RTL is written."""

from __future__ import annotations

import dataclasses

import pytest
from amaranth.hdl import Fragment

from hwgen.npu.config import REQUANT_INTERVALS, ConfigError, NpuConfig, RequantMode


@pytest.mark.parametrize("m", [2, 4, 8, 16])
def test_valid_array_sizes(m: int) -> None:
    assert NpuConfig(array=m, data_width=min(32, 8 * m)).peak_macs_per_cycle == m * m


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"array": 6}, "M=6 must be a power of two"),
        ({"array": 32}, "M=32 must be a power of two"),
        ({"acc_width": 20, "requant": RequantMode.SHIFT}, "cannot hold a reduction of 8192"),
        ({"acc_width": 28}, "needs acc_width=32"),
        ({"weight_depth": 0}, "weight_depth=0 is too small (at least 1)"),
        ({"act_depth": 0}, "act_depth=0 is too small (at least 1)"),
        ({"cmd_depth": 0}, "cmd_depth=0 is too small (at least 1)"),
        ({"param_depth": 4, "array": 8}, "param_depth=4 is too small"),
        ({"data_width": 48}, "data_width=48 must be one of (16, 32, 64)"),
        ({"array": 2, "data_width": 32}, "an M=2 activation vector is 16 bits, less than one beat"),
        ({"requant_interval": 3}, "requant_interval=3 must be one of (1, 2, 4)"),
        ({"requant_lanes": 3}, "requant_lanes=3 must be one of (1, 2, 4)"),
        ({"requant_lanes": 4, "array": 2, "data_width": 16}, "at most the array size 2"),
        ({"requant_lanes": 2, "requant_interval": 2}, "several lanes are for a unit"),
        ({"requant_lanes": 4, "param_depth": 10, "array": 4}, "multiple of requant_lanes=4"),
    ],
)
def test_bad_configs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        NpuConfig(**kwargs)  # type: ignore[arg-type]


def test_shift_mode_accepts_narrow_accumulator_for_short_reductions() -> None:
    config = NpuConfig(acc_width=24, weight_depth=4, requant=RequantMode.SHIFT, act_depth=8)
    assert config.max_reduction == 64 and config.accumulation_bits == 23


def test_cycle_model_takes_the_requant_depth_of_the_unit_built() -> None:
    from hwgen.npu.requant import requant_unit
    from hwgen.sim_models import npu

    for interval in REQUANT_INTERVALS:
        for mode in RequantMode:
            config = NpuConfig(requant=mode, requant_interval=interval, weight_depth=4)
            unit = requant_unit(config)
            assert npu.requant_latency(config) == unit.stages
            Fragment.get(unit, None)  # elaborated: an unused unit warns when collected


def test_depths_beyond_the_sixteen_bit_checks_are_refused() -> None:
    with pytest.raises(ConfigError, match="act_depth=65536 is too large"):
        NpuConfig(act_depth=1 << 16)


@pytest.mark.parametrize(
    "config",
    [
        NpuConfig(),
        # The iCEBreaker's demo build: the narrowest counters generated.
        NpuConfig(
            array=4,
            weight_depth=512,
            act_depth=256,
            out_depth=1024,
            param_depth=76,
            requant_interval=4,
        ),
        NpuConfig(array=16, weight_depth=1, act_depth=4096, out_depth=1, param_depth=16),
    ],
)
def test_counters_hold_the_longest_command_the_checks_let_run(config: NpuConfig) -> None:
    from hwgen.npu.core import counter_width
    from hwgen.sim_models.npu import ConvCommand, cycles

    # Every output row (both banks' worth), each reducing the whole weight memory: a kernel of
    # weight_words taps over one channel block of a 1x1 image, outside taps padding.
    taps = config.weight_words
    kernel_h = next(h for h in range(1, 256) if taps % h == 0 and taps // h < 256)
    longest = ConvCommand(
        in_h=1,
        in_w=1,
        cin_blocks=1,
        out_h=config.out_words,
        out_w=1,
        cout_blocks=1,
        kernel_h=kernel_h,
        kernel_w=taps // kernel_h,
    )
    for mode in RequantMode:
        busy = cycles(longest, dataclasses.replace(config, requant=mode))
        assert busy < 1 << counter_width(config), (busy, counter_width(config))


def test_a_product_not_kept_is_only_the_next_ones_first_operand() -> None:
    from hwgen.npu.command_setup import PROGRAM, derived_layout

    for k, product in enumerate(PROGRAM):
        users = [p for p in PROGRAM if product.name in (p.a, p.b)]
        if not product.kept:
            assert users == [PROGRAM[k + 1]] and PROGRAM[k + 1].a == product.name, product
            assert product.name not in dict(derived_layout(NpuConfig()))
