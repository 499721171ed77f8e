"""The sequencer: runs a program (hwgen.npu.commands) on the loader, the core and the storer.

On `start` it fetches the program into its command memory (the loader copies it from system
memory), then starts the commands in order. A command starts once its engine is idle and no
running command of another engine touches a bank it uses in a way that conflicts:

- a LOAD into a bank a running COMPUTE reads;
- a COMPUTE reading a bank a running LOAD writes, or writing the output bank a running STORE
  reads;
- a STORE of the output bank a running COMPUTE writes.

Commands before it have all started, so these are the only orders to keep: loads of tile k + 1
and stores of tile k - 1 overlap the computation of tile k. The cycle model
(hwgen.sim_models.npu_timing) follows the same rules cycle for cycle:

- a command is looked at from the cycle after the one before it started, and starts in the
  first cycle its conditions hold: the commands wait in a queue of registers that reads the
  command memory ahead (`QUEUE` records, each registered as it leaves the memory and decoded
  as it lands), so what decides a start reads flip-flops, never the memory's slow output, and
  the memory's address comes from a counter, never from that decision (the two, in a row,
  were the ULX3S's critical path at 57 MHz);
- its engine sees `start` the cycle after, and an engine's `done` frees it (and its banks) for
  the cycle after that.

A command that fails (an engine's error, a bad opcode, an unaligned address) stops the program:
nothing after it starts, the running commands finish, and `done` reports the error with the
failing command's index.
"""

from __future__ import annotations

import enum

from amaranth import Array, Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hwgen.npu.commands import (
    COMPUTE_LAYOUT,
    LOAD_LAYOUT,
    PATTERN,
    RECORD_BITS,
    STORE_LAYOUT,
    Buffer,
    Opcode,
)
from hwgen.npu.config import NpuConfig
from hwgen.npu.core import Core, lane_count
from hwgen.npu.errors import NpuError
from hwgen.npu.loader import Loader, Target
from hwgen.npu.storer import Storer

# The program fetch is a load into the command memory; its first command is looked at this
# many cycles after the fetch's `done` (read, registered twice, decoded into the queue's head).
RUN_LATENCY = 5
# Records the queue holds: with three on their way from the command memory, enough to start
# commands in four cycles in a row (then one cycle waits), more than the three engines can take
# before one of them is done.
QUEUE = 4


class Kind(enum.IntEnum):
    """What a record is, decoded as it lands in the queue."""

    LOAD = 0
    COMPUTE = 1
    STORE = 2
    BAD = 3  # an opcode or a buffer that does not exist


# What the decision to start a record reads of it, decoded as it lands in the queue: its
# kind, whether an address is off the beat, and the banks it uses as flags by (buffer, bank),
# to meet the running commands' flags in an AND.
DECODED = data.StructLayout(
    {
        "kind": 2,
        "faulty": 1,  # BAD, or an address off the beat: the kind tells which
        "load": 2 * len(Buffer),  # the bank a load fills
        "reads": 2 * len(Buffer),  # the input banks a compute reads
        "writes": 2,  # its output bank
        "store": 2,  # the output bank a store drains
    }
)


COUNTERS = data.StructLayout(
    {
        "busy": 32,  # start to done
        "load": 32,  # the loader busy (the fetch included)
        "core": 32,  # the core busy
        "store": 32,  # the storer busy
        "mac": 32,  # the array taking a step: M^2 MACs each
        "stall": 32,  # the array waiting for the requant lane
    }
)


class Sequencer(wiring.Component):
    def __init__(self, config: NpuConfig, addr_width: int = 32) -> None:
        self.config = config
        self.addr_width = addr_width
        dw = config.data_width
        super().__init__(
            {
                "start": In(1),
                "prog_addr": In(addr_width),
                "prog_count": In(16),
                "busy": Out(1),
                "done": Out(1),  # a pulse, with `error` and `error_command` valid
                "error": Out(4),
                "error_command": Out(16),
                "counters": Out(COUNTERS),
                # The AXI4 master: reads by the loader, writes by the storer.
                "araddr": Out(addr_width),
                "arlen": Out(8),
                "arsize": Out(3),
                "arburst": Out(2),
                "arvalid": Out(1),
                "arready": In(1),
                "rdata": In(dw),
                "rresp": In(2),
                "rlast": In(1),
                "rvalid": In(1),
                "rready": Out(1),
                "awaddr": Out(addr_width),
                "awlen": Out(8),
                "awsize": Out(3),
                "awburst": Out(2),
                "awvalid": Out(1),
                "awready": In(1),
                "wdata": Out(dw),
                "wstrb": Out(dw // 8),
                "wlast": Out(1),
                "wvalid": Out(1),
                "wready": In(1),
                "bresp": In(2),
                "bvalid": In(1),
                "bready": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        cfg = self.config
        dw = cfg.data_width
        m.submodules.core = core = Core(cfg)
        lanes = {
            Target.ACT: lane_count(core.vector_width, dw),
            Target.WEIGHT: lane_count(core.block_width, dw),
            Target.PARAM: lane_count(core.params.size, dw),
            Target.PROGRAM: RECORD_BITS // dw,
        }
        depths = {
            Target.ACT: cfg.act_depth,
            Target.WEIGHT: cfg.weight_depth,
            Target.PARAM: cfg.param_depth,
            Target.PROGRAM: cfg.cmd_depth,
        }
        m.submodules.loader = loader = Loader(self.addr_width, dw, lanes, depths)
        m.submodules.storer = storer = Storer(self.addr_width, dw, core.vector_width, cfg.out_depth)
        self._bus(m, loader, storer)
        self._writes(m, core, loader)
        m.d.comb += [
            core.out_read.en.eq(storer.read_en),
            core.out_read.bank.eq(storer.read_bank),
            core.out_read.addr.eq(storer.read_addr),
            storer.read_data.eq(core.out_read.data),
        ]
        m.submodules.program = program = Memory(shape=RECORD_BITS, depth=cfg.cmd_depth, init=[])
        # The fetch's writes are registered before the command memory, each lane's enable
        # decoded first: decoded after the loader's registers, the enables' route to the
        # blocks missed a 100 MHz cycle on the ULX3S. The last record lands the cycle the
        # loader is done, before the first is read.
        program_write = program.write_port(granularity=dw)
        m.d.sync += [
            program_write.addr.eq(loader.write_addr),
            program_write.data.eq(loader.write_data.replicate(RECORD_BITS // dw)),
        ]
        for k in range(RECORD_BITS // dw):
            m.d.sync += program_write.en[k].eq(
                loader.write_en & (loader.write_target == Target.PROGRAM) & (loader.write_lane == k)
            )
        self._engines = (loader, core, storer)  # for tests that trace them
        self._run(m, core, loader, storer, program.read_port())
        self._count(m, core, loader, storer)
        return m

    def _bus(self, m: Module, loader: Loader, storer: Storer) -> None:
        for name in ("araddr", "arlen", "arsize", "arburst", "arvalid", "rready"):
            m.d.comb += getattr(self, name).eq(getattr(loader, name))
        for name in ("arready", "rdata", "rresp", "rvalid"):
            m.d.comb += getattr(loader, name).eq(getattr(self, name))
        for name in ("awaddr", "awlen", "awsize", "awburst", "awvalid", "wdata", "wstrb"):
            m.d.comb += getattr(self, name).eq(getattr(storer, name))
        for name in ("wlast", "wvalid", "bready"):
            m.d.comb += getattr(self, name).eq(getattr(storer, name))
        for name in ("awready", "wready", "bresp", "bvalid"):
            m.d.comb += getattr(storer, name).eq(getattr(self, name))

    def _writes(self, m: Module, core: Core, loader: Loader) -> None:
        """The loader's beat into its lane of the buffer it names (every lane sees the beat)."""
        for target, port in (
            (Target.ACT, core.act_write),
            (Target.WEIGHT, core.weight_write),
            (Target.PARAM, core.param_write),
        ):
            lane_bits = len(port.data) // len(port.en)
            m.d.comb += [
                port.bank.eq(loader.write_bank),
                port.addr.eq(loader.write_addr),
                port.data.eq(loader.write_data[:lane_bits].replicate(len(port.en))),
            ]
            selected = loader.write_en & (loader.write_target == target)
            for k in range(len(port.en)):
                m.d.comb += port.en[k].eq(selected & (loader.write_lane == k))

    def _run(self, m: Module, core: Core, loader: Loader, storer: Storer, program: object) -> None:
        cfg = self.config
        count = Signal(16)
        pc = Signal(16)  # the command being looked at
        self._pc = pc
        # The queue: a ring of records, `queued` of them from `head_at`; the head is the
        # command looked at. A ring, not a shift register: a record is written once, where it
        # arrives, so the decision to start the head reaches a few pointers, not the queue's
        # 768 flip-flops (which held the ULX3S at 76 MHz).
        # A record read from the command memory is registered as it leaves it (a block RAM's
        # output is slow: the block's own output register on an ECP5), then again where the
        # queue is, then decoded into it: from the block's register, the route to the queue's
        # logic and the decode held the ULX3S at 93 MHz (8.8 ns of 10.8 were routes).
        slots = [Signal(RECORD_BITS, name=f"queue_{k}") for k in range(QUEUE)]
        decoded = [Signal(DECODED, name=f"decoded_{k}") for k in range(QUEUE)]
        queued = Signal(range(QUEUE + 1))
        head_at = Signal(range(QUEUE))
        tail_at = Signal(range(QUEUE))  # where the landing record goes
        reading = Signal()  # a read of the command memory this cycle, at read_addr
        read_addr = Signal(16)
        arriving = Signal()  # last cycle's read: its record is on the memory's output
        arrived = Signal(RECORD_BITS)  # the memory's output, registered
        passing = Signal()  # the record read two cycles ago is in `arrived`
        passed = Signal(RECORD_BITS)  # `arrived`, registered again
        landing = Signal()  # the record in `passed` goes into the queue this cycle
        record = Array(slots)[head_at]
        # The head's decoded flags, a register of their own that follows the queue: the
        # decision to start reads them from flip-flops, not through the queue's select.
        head = Signal(DECODED)
        head_load = LOAD_LAYOUT(record[: LOAD_LAYOUT.size])
        head_store = STORE_LAYOUT(record[: STORE_LAYOUT.size])
        head_compute = COMPUTE_LAYOUT(record[: COMPUTE_LAYOUT.size])

        # What each engine runs (held still while it runs), and whether it runs it.
        compute_cmd = Signal(COMPUTE_LAYOUT)
        loading, computing, storing = Signal(), Signal(), Signal()
        fetching = Signal()  # the loader runs the program fetch
        for busy, engine in ((loading, loader), (computing, core), (storing, storer)):
            with m.If(engine.done):
                m.d.sync += busy.eq(0)

        # Conflicts with what runs, and whether the head's engine is free. The banks each
        # engine holds are flags set when it starts and cleared when it is done, so that the
        # head's checks against them are a select each: the decision to start feeds the
        # queue's many flip-flops, and was the design's longest path.
        buffers = len(Buffer)
        load_holds = Signal(2 * buffers)  # the bank a load fills, by (buffer, bank)
        compute_reads = Signal(2 * buffers)  # the input banks the running compute reads
        compute_writes = Signal(2)  # its output bank
        store_reads = Signal(2)  # the output bank the running store drains
        with m.If(loader.done):
            m.d.sync += load_holds.eq(0)
        with m.If(core.done):
            m.d.sync += [compute_reads.eq(0), compute_writes.eq(0)]
        with m.If(storer.done):
            m.d.sync += store_reads.eq(0)

        load_ok = ~loading & ~(head.load & compute_reads).any()
        compute_ok = ~computing & ~(
            (head.reads & load_holds).any() | (head.writes & store_reads).any()
        )
        store_ok = ~storing & ~(head.store & compute_writes).any()

        failed = Signal()  # an error stopped the program: start nothing more
        error = self.error
        error_command = self.error_command

        def fail(code: NpuError | Value, index: object) -> None:
            with m.If(~failed):
                m.d.sync += [failed.eq(1), error.eq(code), error_command.eq(index)]

        # The index of the command each engine runs, for its error.
        load_pc, compute_pc, store_pc = Signal(16), Signal(16), Signal(16)
        with m.If(loader.done & ~fetching):
            with m.If(loader.bus_error):
                fail(NpuError.BUS_ERROR, load_pc)
            with m.Elif(loader.out_of_bank):
                fail(NpuError.OUT_OF_BANK, load_pc)
        with m.If(core.done & (core.error != NpuError.NONE)):
            fail(core.error, compute_pc)
        with m.If(storer.done):
            with m.If(storer.bus_error):
                fail(NpuError.BUS_ERROR, store_pc)
            with m.Elif(storer.out_of_bank):
                fail(NpuError.OUT_OF_BANK, store_pc)

        issue = Signal()  # the head starts this cycle
        program_port = program  # the command memory's read port, feeding the queue
        m.d.comb += [
            program_port.addr.eq(read_addr),  # type: ignore[attr-defined]
            program_port.en.eq(reading),  # type: ignore[attr-defined]
            core.cmd.eq(compute_cmd.conv),
        ]
        m.d.sync += [
            arriving.eq(reading),
            arrived.eq(program_port.data),  # type: ignore[attr-defined]
            passing.eq(arriving),
            passed.eq(arrived),
            landing.eq(passing),
        ]
        with m.If(reading):
            m.d.sync += read_addr.eq(read_addr + 1)
        # After this cycle's landing: the records kept, one fewer if the head starts. The
        # sums are made beside the decision to start, which then only chooses between them.
        kept = Signal(range(QUEUE + 2))
        m.d.comb += kept.eq(queued + landing)
        landing_decoded = self._decode(m, passed)
        for k, (slot, flags) in enumerate(zip(slots, decoded, strict=True)):
            with m.If(landing & (tail_at == k)):
                m.d.sync += [slot.eq(passed), flags.eq(landing_decoded)]

        def after(pointer: Signal) -> Value:
            return Mux(pointer == QUEUE - 1, 0, pointer + 1)

        with m.If(landing):
            m.d.sync += tail_at.eq(after(tail_at))
        with m.If(issue):
            m.d.sync += head_at.eq(after(head_at))

        def flags_at(pointer: Value) -> Value:
            """The flags of the record at `pointer` after this cycle's landing."""
            kept_flags = Value.cast(Array(decoded)[pointer])
            return Mux(landing & (tail_at == pointer), landing_decoded.as_value(), kept_flags)

        # After the queue's update: the next head's flags, both ways, chosen by the decision.
        m.d.sync += head.eq(Mux(issue, flags_at(after(head_at)), flags_at(head_at)))
        m.d.sync += queued.eq(Mux(issue, kept - 1, kept))
        # An idle engine's command registers follow the head, so that `issue` only starts it:
        # loaded on the decision, they were its widest fan-out.
        for idle, engine, view, fields in (
            (~loading, loader, head_load, ("bank", "flip", "local_addr", "src", *PATTERN)),
            (~storing, storer, head_store, ("bank", "local_addr", "dst", *PATTERN)),
        ):
            with m.If(idle):
                m.d.sync += [getattr(engine, f).eq(getattr(view, f)) for f in fields]
        with m.If(~loading):
            m.d.sync += loader.target.eq(head_load.buffer)
        with m.If(~computing):
            m.d.sync += compute_cmd.eq(head_compute)
        m.d.sync += [loader.start.eq(0), core.start.eq(0), storer.start.eq(0), self.done.eq(0)]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [
                        self.busy.eq(1),
                        failed.eq(0),
                        error.eq(NpuError.NONE),
                        error_command.eq(0),
                        count.eq(self.prog_count),
                        pc.eq(0),
                    ]
                    with m.If((self.prog_count == 0) | (self.prog_count > cfg.cmd_depth)):
                        m.d.sync += [error.eq(NpuError.PROGRAM_SIZE), failed.eq(1)]
                        m.next = "FINISH"
                    with m.Else():
                        beats = RECORD_BITS // cfg.data_width
                        m.d.sync += [
                            loader.start.eq(1),
                            loading.eq(1),
                            fetching.eq(1),
                            loader.target.eq(Target.PROGRAM),
                            loader.bank.eq(0),
                            loader.flip.eq(0),
                            loader.local_addr.eq(0),
                            loader.src.eq(self.prog_addr),
                            loader.chunk_beats.eq(self.prog_count * beats),
                            loader.n0.eq(1),
                            loader.n1.eq(1),
                            loader.stride0.eq(0),
                            loader.stride1.eq(0),
                        ]
                        m.next = "FETCH"
            with m.State("FETCH"):
                with m.If(loader.done):
                    m.d.sync += fetching.eq(0)
                    with m.If(loader.bus_error):
                        m.d.sync += [failed.eq(1), error.eq(NpuError.BUS_ERROR)]
                        m.next = "FINISH"
                    with m.Else():
                        m.d.sync += [
                            reading.eq(1),
                            read_addr.eq(0),
                            queued.eq(0),
                            head_at.eq(0),
                            tail_at.eq(0),
                        ]
                        m.next = "RUN"
            with m.State("RUN"):
                # Read ahead while the queue has room for what is in flight (its count after
                # this cycle, the two records on their way from the memory, this cycle's read,
                # the next one): a decision that only feeds flip-flops.
                in_flight = kept + passing + arriving + reading
                m.d.sync += reading.eq(Mux(issue, in_flight <= QUEUE, in_flight < QUEUE))
                with m.If(failed):
                    m.next = "FINISH"
                with m.Elif(queued == 0):
                    pass
                with m.Elif(head.faulty):
                    code = Mux(head.kind == Kind.BAD, NpuError.BAD_COMMAND, NpuError.ALIGNMENT)
                    fail(code, pc)
                with m.Elif(head.kind == Kind.LOAD):
                    with m.If(load_ok):
                        m.d.comb += issue.eq(1)
                        m.d.sync += [
                            loading.eq(1),
                            load_holds.eq(head.load),
                            load_pc.eq(pc),
                            loader.start.eq(1),
                        ]
                with m.Elif(head.kind == Kind.COMPUTE):
                    with m.If(compute_ok):
                        m.d.comb += issue.eq(1)
                        m.d.sync += [
                            computing.eq(1),
                            compute_reads.eq(head.reads),
                            compute_writes.eq(head.writes),
                            compute_pc.eq(pc),
                            core.start.eq(1),
                        ]
                with m.Else():  # a store
                    with m.If(store_ok):
                        m.d.comb += issue.eq(1)
                        m.d.sync += [
                            storing.eq(1),
                            store_reads.eq(head.store),
                            store_pc.eq(pc),
                            storer.start.eq(1),
                        ]
                with m.If(issue):
                    m.d.sync += pc.eq(pc + 1)
                    with m.If(pc + 1 == count):
                        m.next = "FINISH"
            with m.State("FINISH"):  # every engine idle, then done
                m.d.sync += reading.eq(0)
                with m.If(~loading & ~computing & ~storing):
                    m.d.sync += [self.done.eq(1), self.busy.eq(0)]
                    m.next = "IDLE"

    def _decode(self, m: Module, record: Value) -> data.View:
        """What the decision to start `record` reads of it (DECODED)."""
        shift = (self.config.data_width // 8).bit_length() - 1
        load = LOAD_LAYOUT(record[: LOAD_LAYOUT.size])
        store = STORE_LAYOUT(record[: STORE_LAYOUT.size])
        compute = COMPUTE_LAYOUT(record[: COMPUTE_LAYOUT.size])
        opcode = load.opcode

        def misaligned(*fields: data.View) -> Value:
            """Any address bit below a beat set."""
            return Cat(*(Value.cast(f)[:shift] for f in fields)).any()

        def bank_flag(buffer: Value | int, bank: Value, width: int) -> Value:
            return (Const(1, width) << (2 * buffer + bank))[:width]

        out = Signal(DECODED)
        off_beat = Signal()
        buffers = 2 * len(Buffer)
        m.d.comb += [
            out.kind.eq(Kind.BAD),
            out.load.eq(bank_flag(load.buffer, load.bank, buffers)),
            out.reads.eq(
                bank_flag(Buffer.ACT, compute.conv.act_bank, buffers)
                | bank_flag(Buffer.WEIGHT, compute.weight_bank, buffers)
                | bank_flag(Buffer.PARAM, compute.param_bank, buffers)
            ),
            out.writes.eq(bank_flag(0, compute.out_bank, 2)),
            out.store.eq(bank_flag(0, store.bank, 2)),
        ]
        with m.If((opcode == Opcode.LOAD) & (load.buffer <= Buffer.PARAM)):
            m.d.comb += [
                out.kind.eq(Kind.LOAD),
                off_beat.eq(misaligned(load.src, load.stride0, load.stride1)),
            ]
        with m.If(opcode == Opcode.COMPUTE):
            m.d.comb += out.kind.eq(Kind.COMPUTE)
        with m.If(opcode == Opcode.STORE):
            m.d.comb += [
                out.kind.eq(Kind.STORE),
                off_beat.eq(misaligned(store.dst, store.stride0, store.stride1)),
            ]
        m.d.comb += out.faulty.eq((out.kind == Kind.BAD) | off_beat)
        return out

    def _count(self, m: Module, core: Core, loader: Loader, storer: Storer) -> None:
        c = self.counters
        with m.If(self.start & ~self.busy):
            m.d.sync += [c.eq(0)]
        with m.Elif(self.busy):
            m.d.sync += c.busy.eq(c.busy + 1)
            with m.If(loader.busy):
                m.d.sync += c.load.eq(c.load + 1)
            with m.If(core.busy):
                m.d.sync += c.core.eq(c.core + 1)
            with m.If(storer.busy):
                m.d.sync += c.store.eq(c.store + 1)
        # The core counts each command's MAC and stall cycles; they add up per program.
        with m.If(core.done):
            m.d.sync += [
                c.mac.eq(c.mac + core.mac_cycles),
                c.stall.eq(c.stall + core.stall_cycles),
            ]
