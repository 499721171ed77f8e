"""The tiling of a layer that takes the fewest cycles, transfers included, under the buffers'
sizes: an exact search.

Every tiling of the space (hwgen.npu.tiling: rows x columns x channel blocks per tile, either
order) whose tiles fit the banks is a candidate; its cost is the cycle model's count for its
program (hwgen.sim_models.npu_timing), split into programs the command memory holds. A lower
bound of each candidate's cost (each engine's commands one after another, with what must come
before the first and after the last) orders them, and the search times candidates in that order
until the bound of the next is no better than the best time found: what it returns is a tiling
of least cost, the one a brute-force search over the same space finds.

The space: tiles are whole output rows (every column) unless one output row of one channel block
does not fit, when rows are split into columns too; any number of rows and channel blocks per
tile. No tiling splits the reduction: a layer whose one channel block's weights, or one output
pixel's input, do not fit a bank is refused (`BufferTooSmall`) with what it needs.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from hwgen.npu.commands import RECORD_BITS, Buffer, Command, Load, Store
from hwgen.npu.config import NpuConfig
from hwgen.npu.loader import load_duration
from hwgen.npu.sequencer import RUN_LATENCY
from hwgen.npu.storer import store_duration
from hwgen.npu.tiling import LayerShape, Order, Tiling, fits, program
from hwgen.sim_models.npu import ConvCommand, cycles
from hwgen.sim_models.npu_program import word_bytes
from hwgen.sim_models.npu_timing import program_timing

# The gap between two commands of one engine: started (issued) in cycle t, its engine sees it in
# t + 1 and is done after its duration; the next starts no sooner than the cycle after that.
ISSUE_GAP = 2


class BufferTooSmall(ValueError):
    """No tiling of the layer fits: `needs` names each buffer short of what one tile needs, with
    the words per bank it would take."""

    def __init__(self, needs: dict[str, int]) -> None:
        self.needs = needs
        super().__init__(", ".join(f"{k} {v}" for k, v in needs.items()))


def minimum_depths(shape: LayerShape, config: NpuConfig) -> dict[str, int]:
    """Words per bank the smallest tile needs: one output pixel of one channel block (every
    input channel and kernel tap, no split reduction)."""
    return {
        "act_depth": shape.span(0, 1) * shape.span(1, 1) * shape.cin_blocks,
        "weight_depth": shape.reduction_blocks,
        "param_depth": config.array,
        "out_depth": 1,
    }


def split(commands: list[Command], depth: int) -> list[list[Command]]:
    """Programs of at most `depth` commands, in order."""
    return [commands[k : k + depth] for k in range(0, len(commands), depth)]


def layer_cycles(shape: LayerShape, tiling: Tiling, config: NpuConfig) -> int:
    """The cycle model's count for the layer: its programs, one after another."""
    commands = program(shape, tiling, config)
    return sum(program_timing(p, config).busy for p in split(commands, config.cmd_depth))


@dataclass(frozen=True)
class LayerProfile:
    """Where a layer's cycles go, by the cycle model: the counters the RTL keeps
    (BUSY/LOAD/CORE/STORE_CYCLES, summed over its programs) and the bytes its DMA moves."""

    cycles: int
    compute: int  # the core busy
    load: int  # the loader busy: loads and program fetches
    store: int  # the storer busy
    read_bytes: int  # loads and program fetches
    written_bytes: int  # stores

    @property
    def exposed(self) -> int:
        """Cycles the core waited: transfers not hidden behind computation, and issue gaps."""
        return self.cycles - self.compute

    @property
    def hidden(self) -> int:
        """Transfer cycles that ran while the core computed."""
        return max(self.load + self.store - self.exposed, 0)

    def as_dict(self) -> dict[str, int]:
        return {
            "cycles": self.cycles,
            "compute_cycles": self.compute,
            "load_cycles": self.load,
            "store_cycles": self.store,
            "exposed_cycles": self.exposed,
            "hidden_cycles": self.hidden,
            "read_bytes": self.read_bytes,
            "written_bytes": self.written_bytes,
        }


def layer_profile(shape: LayerShape, tiling: Tiling, config: NpuConfig) -> LayerProfile:
    commands = program(shape, tiling, config)
    timings = [program_timing(p, config) for p in split(commands, config.cmd_depth)]
    bb = config.beat_bytes
    fetched = sum(t.fetch_beats for t in timings) * bb
    return LayerProfile(
        sum(t.busy for t in timings),
        sum(t.engines["core"] for t in timings),
        sum(t.engines["load"] for t in timings),
        sum(t.engines["store"] for t in timings),
        fetched + sum(c.pattern.beats * bb for c in commands if isinstance(c, Load)),
        sum(c.pattern.beats * bb for c in commands if isinstance(c, Store)),
    )


@dataclass(frozen=True)
class _Axis:
    """The tiles along rows or columns for a tile size: how many, the input each reads, and
    the first's and last's."""

    count: int
    inputs: int  # input rows (or columns) summed over the tiles
    first_in: int
    last_in: int
    last_out: int


def _axis(shape: LayerShape, axis: int, size: int) -> _Axis:
    total = (shape.out_h, shape.out_w)[axis]
    firsts = list(range(0, total, size))
    reads = [shape.reach(axis, f, min(size, total - f))[1] for f in firsts]
    return _Axis(len(firsts), sum(reads), reads[0], reads[-1], total - firsts[-1])


class _Costs:
    """Closed-form command durations of a layer's tiles (hwgen.sim_models.npu_timing)."""

    def __init__(self, shape: LayerShape, config: NpuConfig) -> None:
        self.shape = shape
        self.config = config
        bb = config.beat_bytes
        m = config.array
        self.act_beats_per_pixel = shape.cin_blocks * m // bb
        self.weight_beats = shape.reduction_blocks * word_bytes(config, Buffer.WEIGHT) // bb
        self.param_beats = m * word_bytes(config, Buffer.PARAM) // bb
        self.out_beats = m // bb
        one = ConvCommand(1, 1, shape.cin_blocks, 1, 1, 1, *shape.kernel)
        self.compute_base = cycles(one, config)
        two = ConvCommand(1, 1, shape.cin_blocks, 1, 2, 1, *shape.kernel)
        self.period = cycles(two, config) - self.compute_base

    def compute(self, outputs: int) -> int:
        return self.compute_base + (outputs - 1) * self.period


def _lower_bound(
    costs: _Costs, shape: LayerShape, tiling: Tiling, rows: _Axis, cols: _Axis, config: NpuConfig
) -> int:
    """A cost no program of the tiling can beat: each engine's chain of commands, with the
    loads the first computation waits for before it, and the computation and store the last
    load feeds after it."""
    ctiles = -(-shape.cout_blocks // tiling.couts)
    last_couts = shape.cout_blocks - (ctiles - 1) * tiling.couts
    spatial = rows.count * cols.count
    n = spatial * ctiles
    outputs = shape.out_h * shape.out_w * shape.cout_blocks
    act_pass = rows.inputs * cols.inputs * costs.act_beats_per_pixel  # every input, once
    # What is loaded again: the activations of every spatial tile for each channel block
    # (weights outer), or the weights of every channel block for each spatial tile.
    reloads = spatial > 1 and ctiles > 1
    act_loads = spatial * ctiles if reloads and tiling.order is Order.WEIGHTS_OUTER else spatial
    act_beats = act_pass * (act_loads // spatial)
    weight_loads = n if reloads and tiling.order is Order.ACTS_OUTER else ctiles
    weight_beats = (weight_loads // ctiles) * shape.cout_blocks * costs.weight_beats
    param_beats = (weight_loads // ctiles) * shape.cout_blocks * costs.param_beats
    gap = ISSUE_GAP
    loads_total = (
        act_beats
        + weight_beats
        + param_beats
        + (act_loads + 2 * weight_loads) * (load_duration(0) + gap)
    )
    first_act = rows.first_in * cols.first_in * costs.act_beats_per_pixel
    pre = (
        load_duration(first_act)
        + load_duration(tiling.couts * costs.weight_beats)
        + load_duration(tiling.couts * costs.param_beats)
        + 3 * gap
    )
    compute_total = n * (costs.compute_base - costs.period + gap) + costs.period * outputs
    store_total = n * (store_duration(0) + gap) + outputs * costs.out_beats
    first_outputs = min(tiling.rows, shape.out_h) * min(tiling.cols, shape.out_w) * tiling.couts
    last_outputs = rows.last_out * cols.last_out * last_couts  # the last tile, either order
    last_compute = costs.compute(last_outputs) + gap
    last_store = store_duration(last_outputs * costs.out_beats) + gap
    commands = act_loads + 2 * weight_loads + 2 * n
    fetch = 1 + load_duration(commands * RECORD_BITS // config.data_width) + RUN_LATENCY
    return fetch + max(
        pre + compute_total + last_store,
        loads_total + last_compute + last_store,
        pre + costs.compute(first_outputs) + gap + store_total,
    )


def candidates(shape: LayerShape, config: NpuConfig) -> list[Tiling]:
    """Every tiling of the space whose tiles fit the banks."""
    couts = [
        c
        for c in range(1, shape.cout_blocks + 1)
        if c * shape.reduction_blocks <= config.weight_depth
        and c * config.array <= config.param_depth
    ]
    whole_rows = fits(shape, Tiling(1, shape.out_w, 1, Order.WEIGHTS_OUTER), config)
    cols = [shape.out_w] if whole_rows else list(range(1, shape.out_w + 1))
    found = []
    for c in couts:
        orders = [Order.WEIGHTS_OUTER] if c == shape.cout_blocks else list(Order)
        for w in cols:
            for r in range(1, shape.out_h + 1):
                for order in orders:
                    tiling = Tiling(r, w, c, order)
                    if fits(shape, tiling, config):
                        found.append(tiling)
    return found


def check_fits(shape: LayerShape, config: NpuConfig) -> None:
    short = {
        name: need
        for name, need in minimum_depths(shape, config).items()
        if need > getattr(config, name)
    }
    if short:
        raise BufferTooSmall(short)


@dataclass(frozen=True)
class Choice:
    tiling: Tiling
    cycles: int
    timed: int  # candidates timed by the cycle model
    considered: int  # candidates of the space


def best_tiling(shape: LayerShape, config: NpuConfig) -> Choice:
    check_fits(shape, config)
    costs = _Costs(shape, config)
    axes: dict[tuple[int, int], _Axis] = {}

    def axis(which: int, size: int) -> _Axis:
        key = (which, size)
        if key not in axes:
            axes[key] = _axis(shape, which, size)
        return axes[key]

    space = candidates(shape, config)
    heap = [
        (
            _lower_bound(costs, shape, t, axis(0, t.rows), axis(1, t.cols), config),
            k,
            t,
        )
        for k, t in enumerate(space)
    ]
    heapq.heapify(heap)
    best: tuple[int, int, Tiling] | None = None
    timed = 0
    while heap:
        bound, k, tiling = heapq.heappop(heap)
        if best is not None and bound >= best[0]:
            break
        cost = layer_cycles(shape, tiling, config)
        timed += 1
        if best is None or (cost, k) < (best[0], best[1]):
            best = (cost, k, tiling)
    assert best is not None
    return Choice(best[2], best[0], timed, len(space))


def brute_force(shape: LayerShape, config: NpuConfig) -> tuple[Tiling, int]:
    """Every candidate timed: for testing the search."""
    timed = [
        (layer_cycles(shape, t, config), k, t) for k, t in enumerate(candidates(shape, config))
    ]
    cost, _, tiling = min(timed)
    return tiling, cost
