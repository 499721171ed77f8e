"""The compute core: memories, address generator, multiplier array, requantization, output.

Pipeline: command setup (once per command) -> address generator -> memory read -> operand
registers -> MacArray (6 stages) -> row of M sums -> `requant_lanes` channels per cycle through
as many requant units (bias added, parameters read per channel, each lane from a parameter
memory of its own) -> bytes collected into an output vector -> output buffer. Everything up to
the array stalls as a whole (`en`) while a row would finish before the requant lanes have taken
the one before.
"""

from __future__ import annotations

import itertools

from amaranth import Cat, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, fifo, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, exact_log2

from hwgen.npu.address_gen import AddressGenerator
from hwgen.npu.arith import StallPipeline
from hwgen.npu.banked_memory import BankedMemory
from hwgen.npu.command_setup import PROGRAM, command_setup
from hwgen.npu.config import NpuConfig, RequantMode
from hwgen.npu.descriptor import ADDR, CONV_DESCRIPTOR
from hwgen.npu.device import ice40_mac16_blocks, is_ice40
from hwgen.npu.errors import NpuError
from hwgen.npu.mac_array import MacArray
from hwgen.npu.requant import ORT_PARAMS, SHIFT_PARAMS, requant_unit

# What the fetch carries beside the memory words.
FETCHED = data.StructLayout({"valid": 1, "pad": 1, "last": 1})
# The address generator's register, the memory read, the words registered twice, the operand
# registers (see Core.elaborate).
FETCH_LATENCY = 5
ISSUE_LATENCY = 3  # a channel's parameter read, the word registered, the bias added
CHECK_LATENCY = 1  # the range check's verdict, registered
OUT_READ_LATENCY = 2  # the output buffer's read, and its word registered


def counter_width(config: NpuConfig) -> int:
    """Bits of the per-command performance counters: enough for the longest command the checks
    let run. It finishes at most out_words rows (its outputs fit), each at most
    max(weight_words, row_cycles) cycles after the one before (its weight blocks fit; the
    requant lanes take a row in row_cycles); its first row and the drain after the last take at
    most two such periods more, and setup and pipeline latencies under 256 cycles."""
    period = max(config.weight_words, config.row_cycles)
    return int(bits_for((config.out_words + 2) * period + 256))


def param_layout(config: NpuConfig) -> data.StructLayout:
    params = ORT_PARAMS if config.requant is RequantMode.ORT else SHIFT_PARAMS
    return data.StructLayout({"bias": signed(32), "params": params})


def lane_width(width: int, data_width: int) -> int:
    """A memory word is written a lane at a time, each lane one beat of the data port (or the
    whole word, where that is narrower): no word is assembled in flip-flops first."""
    return min(width, data_width)


def lane_count(width: int, data_width: int) -> int:
    return -(-width // lane_width(width, data_width))


def write_port(width: int, depth: int, data_width: int) -> wiring.Signature:
    """A banked memory's write port with one enable per lane (`lane_count`): `addr` within
    `bank`, whose `depth` words lie above the other's; `data` is the whole word, padded to
    whole lanes."""
    count = lane_count(width, data_width)
    return wiring.Signature(
        {
            "en": Out(count),
            "bank": Out(1),
            "addr": Out(range(depth)),
            "data": Out(count * lane_width(width, data_width)),
        }
    )


def read_port(width: int, depth: int) -> wiring.Signature:
    """A banked memory's read port: `data` is the word at (`bank`, `addr`) of the cycle
    OUT_READ_LATENCY cycles ago where `en` was high, held until the next read's word."""
    return wiring.Signature(
        {"en": Out(1), "bank": Out(1), "addr": Out(range(depth)), "data": In(width)}
    )


class Core(wiring.Component):
    def __init__(self, config: NpuConfig) -> None:
        """The local buffers, two banks each, are written by the loader through the write
        ports and the outputs read by the storer, while a command runs on other banks. `cmd` is
        read where it is, not copied: its owner holds it still from `start` until `done`."""
        self.config = config
        m = config.array
        self.vector_width = 8 * m
        self.block_width = 8 * m * m
        self.params = param_layout(config)
        super().__init__(
            {
                "cmd": In(CONV_DESCRIPTOR),
                "start": In(1),
                "busy": Out(1),
                "done": Out(1),
                "error": Out(4),
                "act_write": In(write_port(self.vector_width, config.act_depth, config.data_width)),
                "weight_write": In(
                    write_port(self.block_width, config.weight_depth, config.data_width)
                ),
                "param_write": In(
                    write_port(self.params.size, config.param_depth, config.data_width)
                ),
                "out_read": In(read_port(self.vector_width, config.out_depth)),
                "busy_cycles": Out(counter_width(config)),
                "stall_cycles": Out(counter_width(config)),
                "mac_cycles": Out(counter_width(config)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        lanes = cfg.array

        m.submodules.agen = agen = AddressGenerator(cfg)
        m.submodules.array = array = MacArray(cfg)
        units = cfg.requant_lanes
        requants = [requant_unit(cfg) for _ in range(units)]
        for k, unit in enumerate(requants):
            m.submodules[f"requant_{k}"] = unit
        requant = requants[0]  # the lanes move in lockstep: the first one's stream speaks for all

        # Memories: host write ports, compute read ports.
        # Both activation buffers in one memory, bank 1 above bank 0: the address generator
        # adds the bank's offset, so no multiplexer follows the memory.
        dw = cfg.data_width
        m.submodules.act = act_mem = Memory(
            shape=unsigned(len(self.act_write.data)), depth=2 * cfg.act_depth, init=[]
        )
        # A parameter memory per requant lane: channel c in lane c % L's, at c // L.
        param_mems = [
            Memory(
                shape=unsigned(len(self.param_write.data)),
                depth=cfg.param_words // units,
                init=[],
            )
            for _ in range(units)
        ]
        for k, mem in enumerate(param_mems):
            m.submodules[f"param_mem_{k}"] = mem
        # Simple dual-port: the storer reads one bank while the core writes the other, and a
        # read never waits on a write (the store's timing is the cycle model's).
        m.submodules.out_mem = out_mem = Memory(
            shape=unsigned(self.vector_width), depth=cfg.out_words, init=[]
        )
        # Writes are registered before the memories: the bank's offset and the lane's enable,
        # fanned out to a wide memory's many blocks, missed a 100 MHz cycle on the ULX3S. A
        # write lands the cycle after the loader's; a computation reading it starts later.
        src = self.act_write
        port = act_mem.write_port(granularity=lane_width(self.vector_width, dw))
        m.d.sync += [
            port.en.eq(src.en),
            port.addr.eq(Mux(src.bank, src.addr + cfg.act_depth, src.addr)),
            port.data.eq(src.data),
        ]
        src = self.weight_write
        weight_data = unsigned(len(src.data))
        weight_address = Mux(src.bank, src.addr + cfg.weight_depth, src.addr)
        weight_granule = lane_width(self.block_width, dw)
        if ice40_mac16_blocks(platform):
            weights = Memory(shape=weight_data, depth=cfg.weight_words, init=[])
            port = weights.write_port(granularity=weight_granule)
            m.d.sync += [port.en.eq(src.en), port.addr.eq(weight_address), port.data.eq(src.data)]
        else:
            weights = BankedMemory(len(src.data), cfg.weight_words, weight_granule)
            m.d.comb += [
                weights.wr_en.eq(src.en),
                weights.wr_addr.eq(weight_address),
                weights.wr_data.eq(src.data),
            ]
        m.submodules.weights = weights
        # param_depth is a multiple of the lanes (NpuConfig): a bank starts in lane 0's memory.
        src = self.param_write
        lane_bits = exact_log2(units)
        for k, mem in enumerate(param_mems):
            port = mem.write_port(granularity=lane_width(self.params.size, dw))
            mine = (src.addr[:lane_bits] == k) if units > 1 else 1
            within = src.addr[lane_bits:]
            m.d.sync += [
                port.en.eq(Mux(mine, src.en, 0)),
                port.addr.eq(Mux(src.bank, within + cfg.param_depth // units, within)),
                port.data.eq(src.data),
            ]
        # A read takes OUT_READ_LATENCY cycles: the word read is registered, a register that
        # becomes the blocks' own output register on an ECP5 (hwgen.boards.ram_output_registers).
        # An iCE40's block RAM has none, and the read is registered before the memory instead:
        # fewer flip-flops.
        out_read = out_mem.read_port()
        out_addr = Mux(self.out_read.bank, self.out_read.addr + cfg.out_depth, self.out_read.addr)
        if is_ice40(platform):
            m.d.sync += [out_read.en.eq(self.out_read.en), out_read.addr.eq(out_addr)]
            m.d.comb += self.out_read.data.eq(out_read.data)
        else:
            out_word = Signal(self.vector_width)
            m.d.sync += out_word.eq(out_read.data)
            m.d.comb += [
                out_read.en.eq(self.out_read.en),
                out_read.addr.eq(out_addr),
                self.out_read.data.eq(out_word),
            ]
        out_write = out_mem.write_port()

        # Command state: at start the descriptor is taken and its products derived
        # (CommandSetup); then it is checked, and refused with an error code or run.
        m.submodules.setup = setup = command_setup(self.config)
        cmd = self.cmd  # held still by the owner while busy (the NPU refuses writes to it)
        rows_left = Signal(ADDR)  # rows of the command not yet written
        accept = Signal()
        launch = Signal()
        refuse = Signal()
        m.d.comb += [
            accept.eq(self.start & ~self.busy),
            setup.cmd.eq(cmd),
            setup.start.eq(accept),
        ]
        with m.If(accept):
            m.d.sync += [self.error.eq(NpuError.NONE), self.busy.eq(1)]
        # The check's verdict is registered before it starts anything (CHECK_LATENCY).
        check = self._check(m, cmd, setup.derived)
        # Each a flip-flop of its own, the verdict registered: `launch` fans out to all of the
        # walk's registers.
        m.d.sync += [
            launch.eq(setup.done & (check == NpuError.NONE)),
            refuse.eq(setup.done & (check != NpuError.NONE)),
        ]
        # Whether the last row is written, kept beside a count down: `done` follows a flag,
        # and the flag a comparison with a constant, not an adder and a comparator.
        all_rows = Signal()
        with m.If(setup.done):
            m.d.sync += [
                self.error.eq(check),
                rows_left.eq(setup.derived.rows.value),
                all_rows.eq(0),  # rows is not 0 in a command that passes the checks
            ]
        # `launch` comes the cycle after setup.done, so the products have held still for a
        # cycle, as the address generator needs.
        m.d.comb += [agen.cmd.eq(cmd), agen.derived.eq(setup.derived), agen.start.eq(launch)]

        # The front of the pipeline moves unless a row would finish onto one not yet taken
        # (MacArray's contract): en == ~(finishing & sums_valid) | row_taken. It fans out to
        # every register up to the array, so it is a register itself, set from the next values
        # of what it depends on (below).
        row_taken = Signal()
        en = Signal(init=1)
        m.d.comb += [agen.en.eq(en), array.en.eq(en), array.taken.eq(row_taken)]

        # FETCH_LATENCY stages from the step to the array's operands. On an ECP5 the words are
        # registered twice as they leave the memories, before the activations' pad select: a
        # block RAM's output is slow (5.8 ns), a buffer's blocks spread over the device, and the
        # operands' registers sit by the multipliers; with one register between, its route from
        # the memory or to the multipliers missed a 100 MHz cycle. The first of the two becomes
        # the blocks' own output register (hwgen.boards.ram_output_registers); the weights'
        # is their bank's (BankedMemory), and they take their other stage on the address.
        # On an iCE40 the multipliers' own input registers follow
        # the memory directly, and the fetch's extra stages register the step before the read
        # instead: 54 flip-flops for 320, and those 320 could not share a logic cell with a
        # LUT (a RAM drives them).
        act_read = act_mem.read_port()
        # The step at each stage; stages[0] as the agen gives it.
        stages = [Signal(FETCHED, name=f"stage_{k}") for k in range(FETCH_LATENCY)]
        fetched = stages[-1]
        step = agen.step
        m.d.comb += [
            stages[0].valid.eq(agen.valid),
            stages[0].pad.eq(step.pad),
            stages[0].last.eq(step.last),
        ]
        with m.If(en):
            m.d.sync += [later.eq(earlier) for earlier, later in itertools.pairwise(stages)]
        operands = Signal(self.vector_width)
        operand_weights = Signal(self.block_width)
        pad_vector = cmd.pad_value.as_unsigned().replicate(lanes)
        if isinstance(weights, Memory):
            weight_read = weights.read_port()
            act_addr, weight_addr = step.act_addr, step.weight_addr
            for k in range(FETCH_LATENCY - 2):
                act_addr, weight_addr = self._register(m, en, f"early_{k}", act_addr, weight_addr)
            m.d.comb += [
                operands.eq(Mux(fetched.pad, pad_vector, act_read.data)),
                operand_weights.eq(weight_read.data),
                weight_read.addr.eq(weight_addr),
                weight_read.en.eq(en),
            ]
        else:
            # The weights' second stage is the bank's word (BankedMemory.READ_LATENCY).
            (weight_addr,) = self._register(m, en, "early", step.weight_addr)
            act_addr = step.act_addr
            (act_word,) = self._register(m, en, "read", act_read.data)
            (act_held,) = self._register(m, en, "held", act_word)
            m.d.comb += [weights.rd_addr.eq(weight_addr), weights.rd_en.eq(en)]
            with m.If(en):
                m.d.sync += [
                    operands.eq(Mux(stages[-2].pad, pad_vector, act_held)),
                    operand_weights.eq(weights.rd_data),
                ]
        m.d.comb += [
            act_read.addr.eq(act_addr),
            act_read.en.eq(en),
            array.valid.eq(fetched.valid),
            array.last.eq(fetched.last),
            array.a.eq(operands),
            array.w.eq(operand_weights),
        ]

        # Row bookkeeping: each row's output address and first parameter word, in order.
        # Eight rows would do; at sixteen yosys puts the FIFO in block RAM instead of 119
        # flip-flops, which on an iCE40 each took a logic cell of its own.
        out_bits = len(step.out_addr)
        m.submodules.rows = rows = fifo.SyncFIFOBuffered(
            width=out_bits + len(step.param_addr), depth=16
        )
        m.d.comb += [
            rows.w_en.eq(en & agen.valid & step.last),
            rows.w_data.eq(Cat(step.out_addr, step.param_addr)),
        ]
        # A row's output address waits from row_taken until its last byte leaves the requant
        # pipeline: the last issue slot, the pipeline, the write. Rows are taken M slots apart at
        # the fastest, so this many can be waiting (nothing stalls on this FIFO being full).
        interval = cfg.requant_interval
        row_cycles = cfg.row_cycles
        in_flight = -(-(row_cycles + ISSUE_LATENCY + requant.stages + 2) // row_cycles) + 1
        m.submodules.out_addrs = out_addrs = fifo.SyncFIFOBuffered(width=out_bits, depth=in_flight)

        # Requant lanes: L channels of the finished row per slot of `interval` cycles (they
        # issue in the slot's first), each with its parameter word. The row is issued from the
        # array's hand-off register, which it holds until its last slot: the array finishes
        # the next row meanwhile and waits for it only if that comes sooner. The lanes never
        # stall (every result is taken as it comes), so a row's channels issue in consecutive
        # slots.
        sums = array.sums
        holding = array.sums_valid
        channel = Signal(range(lanes))
        # The cycle within the channel's slot (never 0 bits wide, even at an interval of 1).
        phase = Signal(range(max(interval, 2)))
        # The row's first parameter word: the head of the rows FIFO, which the agen wrote
        # at the row's last step, long before the row leaves the array.
        param_addr = rows.r_data[out_bits:]
        issue = wiring.Signature({"valid": Out(1), "ready": In(1)}).create()
        m.d.comb += issue.valid.eq(holding & (phase == 0))
        # Parameter read; the word registered; the bias added: the memory's slow output meets
        # no adder in the same cycle.
        # At an interval above 1 the memory's output register is the parameters' only
        # register on the way (StallPipeline.hold): it is read once per channel.
        pipe = StallPipeline(m, issue, requant.request, stages=ISSUE_LATENCY, interval=interval)
        for unit in requants[1:]:
            m.d.comb += unit.request.valid.eq(requant.request.valid)
        # param_base is a multiple of the lanes (the checks refuse others), and so is channel.
        first_word = (param_addr + channel)[lane_bits:]
        param_reads = [mem.read_port() for mem in param_mems]
        for read in param_reads:
            m.d.comb += [read.addr.eq(first_word), read.en.eq(pipe.accept)]
        issued_accs = [pipe.hold(sums[channel + k], 1, f"issued_acc_{k}") for k in range(units)]
        slot_over = phase == interval - 1
        last_slot = lanes - units  # the first channel of the row's last slot
        last_channel = holding & (channel == last_slot) & slot_over
        channel_next = Signal.like(channel)
        phase_next = Signal.like(phase)
        # The next row may arrive in the last cycle of the previous one's last slot.
        m.d.comb += [
            row_taken.eq(last_channel),
            channel_next.eq(
                Mux(last_channel, 0, Mux(holding & slot_over, channel + units, channel))
            ),
            phase_next.eq(Mux(~holding | slot_over, 0, phase + 1)),
        ]
        m.d.sync += [
            channel.eq(channel_next),
            phase.eq(phase_next),
            en.eq(
                ~array.finishing_next
                | ~array.sums_valid_next
                | ((channel_next == last_slot) & (phase_next == interval - 1))
            ),
        ]
        m.d.comb += [
            rows.r_en.eq(row_taken),
            out_addrs.w_en.eq(row_taken),
            out_addrs.w_data.eq(rows.r_data[:out_bits]),
        ]
        for k, (unit, read, acc) in enumerate(zip(requants, param_reads, issued_accs, strict=True)):
            word = self.params(pipe.hold(read.data[: self.params.size], 2, f"param_word_{k}"))
            acc = pipe.hold(acc, 2, f"issued_acc_2_{k}")
            biased = pipe.register(acc + word.bias, f"biased_acc_{k}")
            params = pipe.hold(word.params, 3, f"issued_params_{k}")
            m.d.comb += [
                unit.request.payload.acc.eq(biased),
                unit.request.payload.params.eq(params),
                unit.result.ready.eq(1),  # the lanes never stall (above)
            ]

        # Collect bytes into the output vector and write it.
        collected = Signal(self.vector_width)
        results = Cat(*(unit.result.payload for unit in requants))
        slots = lanes // units
        slot = Signal(range(max(slots, 2)))
        m.d.comb += [
            out_write.addr.eq(out_addrs.r_data),
            out_write.data.eq(collected | (results << (8 * (lanes - units)))),
        ]
        with m.If(requant.result.valid):
            m.d.sync += [
                collected.word_select(slot, 8 * units).eq(results),
                slot.eq(slot + 1),
            ]
            with m.If(slot == slots - 1):
                m.d.comb += [out_write.en.eq(1), out_addrs.r_en.eq(1)]
                m.d.sync += [
                    slot.eq(0),
                    collected.eq(0),
                    rows_left.eq(rows_left - 1),
                    all_rows.eq(rows_left == 1),
                ]

        # Done once the last row is written, or at once when refused.
        running = Signal()
        with m.If(launch):
            m.d.sync += running.eq(1)
        finished = running & all_rows
        with m.If(finished | refuse):
            m.d.comb += self.done.eq(1)
            m.d.sync += [self.busy.eq(0), running.eq(0)]

        # Performance counters of the current command, setup included.
        with m.If(accept):
            m.d.sync += [self.busy_cycles.eq(0), self.stall_cycles.eq(0), self.mac_cycles.eq(0)]
        with m.Elif(self.busy):
            m.d.sync += self.busy_cycles.eq(self.busy_cycles + 1)
            with m.If(~en):
                m.d.sync += self.stall_cycles.eq(self.stall_cycles + 1)
            with m.If(en & fetched.valid):
                m.d.sync += self.mac_cycles.eq(self.mac_cycles + 1)
        return m

    @staticmethod
    def _register(m: Module, en: Value, name: str, *values: Value) -> tuple[Signal, ...]:
        """Each value through a register of the fetch, which moves while `en`."""
        registers = tuple(Signal.like(v, name=f"{name}_{k}") for k, v in enumerate(values))
        with m.If(en):
            m.d.sync += [r.eq(v) for r, v in zip(registers, values, strict=True)]
        return registers

    def _check(self, m: Module, c: data.View, derived: data.View) -> Signal:
        """The first thing wrong with a descriptor, as an NpuError code. A size that overflowed
        its product_width bits runs past every memory (that width holds every depth).

        Each test is a register, updated every cycle: what it reads (the descriptor, and the
        sizes CommandSetup derives before its last product) holds still for many cycles before
        `done`, and the verdict is then one multiplexer of flags, not adders and comparators
        in a row."""
        cfg = self.config
        checked_sizes = ("act_size", "weight_size", "rows")
        assert PROGRAM[-1].name not in checked_sizes  # its flag would lag `done` (2 cycles)

        def registered(value: Value, name: str) -> Signal:
            reg = Signal.like(value, name=name)
            m.d.sync += reg.eq(value)
            return reg

        def past(
            base: Value, size: Value, depth: int, name: str, overflow: Value | int = 0
        ) -> Signal:
            # The end is registered before it is compared: one carry chain per cycle.
            end = registered(base + size, f"{name}_end")
            return registered(overflow | (end > depth), name)

        def runs_past(base: Value, size: data.View, depth: int, name: str) -> Signal:
            return past(base, size.value, depth, name, size.overflow)

        code = Signal(4)
        zero = registered(
            (c.in_h == 0)
            | (c.in_w == 0)
            | (c.cin_blocks == 0)
            | (c.out_h == 0)
            | (c.out_w == 0)
            | (c.cout_blocks == 0)
            | (c.kernel_h == 0)
            | (c.kernel_w == 0)
            | (c.stride_h == 0)
            | (c.stride_w == 0)
            | (c.dilation_h == 0)
            | (c.dilation_w == 0),
            "zero_dimension",
        )
        act = runs_past(c.act_base, derived.act_size, cfg.act_depth, "act_past")
        weight = runs_past(c.weight_base, derived.weight_size, cfg.weight_words, "weight_past")
        # Each requant lane reads its own memory: the first channel must be lane 0's.
        lane_bits = exact_log2(cfg.requant_lanes)
        off_lane = c.param_base[:lane_bits].any() if lane_bits else 0
        param = past(
            c.param_base, c.cout_blocks * cfg.array, cfg.param_words, "param_past", off_lane
        )
        out = runs_past(c.out_base, derived.rows, cfg.out_words, "out_past")
        with m.If(zero):
            m.d.comb += code.eq(NpuError.ZERO_DIMENSION)
        with m.Elif(act):
            m.d.comb += code.eq(NpuError.ACT_RANGE)
        with m.Elif(weight):
            m.d.comb += code.eq(NpuError.WEIGHT_RANGE)
        with m.Elif(param):
            m.d.comb += code.eq(NpuError.PARAM_RANGE)
        with m.Elif(out):
            m.d.comb += code.eq(NpuError.OUT_RANGE)
        return code
