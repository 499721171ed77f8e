"""System memory behind an AXI4 slave: the board's on-chip RAM, and in co-simulation the host
C's own memory (through a DPI port). Both run the same protocol logic here, so the NPU's DMA sees
one timing, which the cycle model counts on:

- a read burst accepted in cycle t answers its first beat in t + READ_LATENCY, then one beat
  per cycle while the master takes them; accepted bursts wait in a register slice, and the next
  is taken on the last beat's issue, so bursts run back to back;
- a write burst is accepted when the last one's last beat is (or when idle), its beats are
  taken one per cycle, and its response comes the cycle after its last beat.

Full-width INCR bursts only (what the NPU issues). A beat past `size` bytes (an input: a board
ties it to its RAM's size, co-simulation to the buffer attached) is not done and answers SLVERR.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, fifo, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import bits_for, exact_log2

from hwgen.npu.axi import OKAY, SLVERR, axi4
from hwgen.npu.register_slice import RegisterSlice

# Cycles from a read's `rd_en` to its word on `rd_data`: the block RAM's read, a register per
# bank, a register per group of banks (BlockRam). A large memory's blocks spread over the
# device: their slow outputs (5.8 ns on an ECP5) with the route to one multiplexer, or that
# multiplexer over every bank, did not fit a 100 MHz cycle on the ULX3S. The bank's register
# becomes its blocks' own output register on an ECP5 (hwgen.boards.ram_output_registers):
# nextpnr placed it away from the blocks (measured, docs/npu.md).
PORT_LATENCY = 3
# Cycles from a read burst's acceptance to its first beat: the register slice, the burst
# taken, the port, the queue that holds words while the master waits.
READ_LATENCY = 1 + 1 + PORT_LATENCY + 1


def memory_port(word_addr_width: int, data_width: int) -> wiring.Signature:
    """A word-addressed memory with one read port (the word at `rd_addr` on `rd_data`
    PORT_LATENCY cycles after `rd_en`, for that cycle) and one write port with byte strobes."""
    return wiring.Signature(
        {
            "rd_en": Out(1),
            "rd_addr": Out(word_addr_width),
            "rd_data": In(data_width),
            "wr_en": Out(1),
            "wr_addr": Out(word_addr_width),
            "wr_data": Out(data_width),
            "wr_strb": Out(data_width // 8),
        }
    )


class AxiMemory(wiring.Component):
    """The AXI4 protocol in front of `port` (a memory of `size` bytes)."""

    def __init__(self, addr_width: int, data_width: int) -> None:
        self.addr_width = addr_width
        self.data_width = data_width
        self.shift = exact_log2(data_width // 8)
        super().__init__(
            {
                "s_axi": In(axi4(addr_width, data_width)),
                "port": Out(memory_port(addr_width - self.shift, data_width)),
                "size": In(addr_width + 1),  # bytes, a whole number of beats
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        self.words = Signal(self.addr_width + 1 - self.shift)
        m.d.sync += self.words.eq(self.size[self.shift :])
        self._reads(m)
        self._writes(m)
        return m

    def _reads(self, m: Module) -> None:
        bus, port = self.s_axi, self.port
        # Bursts pass a register slice before they are taken: `arready` is a register, and the
        # taking (the read queue's room, the burst's last issue) reaches no register of the
        # master's (on the ULX3S the loader's address queue missed a 100 MHz cycle by it).
        m.submodules.ar = ar = RegisterSlice(len(bus.araddr) + len(bus.arlen) + len(bus.arid))
        m.d.comb += [
            ar.i.valid.eq(bus.arvalid),
            ar.i.payload.eq(Cat(bus.araddr, bus.arlen, bus.arid)),
            bus.arready.eq(ar.i.ready),
        ]
        araddr = ar.o.payload[: len(bus.araddr)]
        arlen = ar.o.payload[len(bus.araddr) :][: len(bus.arlen)]
        arid = ar.o.payload[len(bus.araddr) + len(bus.arlen) :]
        word = len(port.rd_addr)
        active = Signal()
        addr = Signal(word)
        left = Signal(9)  # beats of the burst not yet issued
        # Whether one is left, kept beside the count: the burst's end reaches `arready`.
        one_left = Signal()
        burst_id = Signal.like(bus.arid)  # answered with each beat of the burst
        tag = data.StructLayout({"last": 1, "inside": 1, "id": len(bus.arid)})
        m.submodules.reads = reads = ReadQueue(self.data_width, tag)
        issue = reads.issue
        last = Signal()
        m.d.comb += [
            reads.want.eq(active),
            reads.tag.last.eq(one_left),
            reads.tag.inside.eq(addr < self.words),
            reads.tag.id.eq(burst_id),
            last.eq(issue & one_left),
            ar.o.ready.eq(~active | last),
            port.rd_en.eq(issue),
            port.rd_addr.eq(addr),
            reads.data.eq(port.rd_data),
        ]
        with m.If(issue):
            m.d.sync += [addr.eq(addr + 1), left.eq(left - 1), one_left.eq(left == 2)]
        with m.If(ar.o.valid & ar.o.ready):
            m.d.sync += [
                burst_id.eq(arid),
                active.eq(1),
                addr.eq(araddr[self.shift :]),
                left.eq(arlen + 1),
                one_left.eq(arlen == 0),
            ]
        with m.Elif(last):
            m.d.sync += active.eq(0)
        m.d.comb += [
            bus.rvalid.eq(reads.valid),
            reads.ready.eq(bus.rready),
            bus.rdata.eq(reads.word),
            bus.rlast.eq(reads.tag_out.last),
            bus.rid.eq(reads.tag_out.id),
            bus.rresp.eq(Mux(reads.tag_out.inside, OKAY, SLVERR)),
        ]

    def _writes(self, m: Module) -> None:
        bus, port = self.s_axi, self.port
        word = len(port.wr_addr)
        active = Signal()
        addr = Signal(word)
        left = Signal(9)
        failed = Signal()  # a beat of this burst fell outside the memory
        beat = Signal()
        last = Signal()
        m.d.comb += [
            bus.wready.eq(active & (~bus.bvalid | bus.bready | (left != 1))),
            beat.eq(bus.wready & bus.wvalid),
            last.eq(beat & (left == 1)),
            bus.awready.eq(~active | last),
            port.wr_en.eq(beat & (addr < self.words)),
            port.wr_addr.eq(addr),
            port.wr_data.eq(bus.wdata),
            port.wr_strb.eq(bus.wstrb),
        ]
        with m.If(beat):
            m.d.sync += [addr.eq(addr + 1), left.eq(left - 1)]
            with m.If(addr >= self.words):
                m.d.sync += failed.eq(1)
        burst_id = Signal.like(bus.awid)  # answered with the burst's response
        with m.If(bus.awvalid & bus.awready):
            m.d.sync += [
                burst_id.eq(bus.awid),
                active.eq(1),
                addr.eq(bus.awaddr[self.shift :]),
                left.eq(bus.awlen + 1),
                failed.eq(0),
            ]
        with m.Elif(last):
            m.d.sync += active.eq(0)
        # One response per burst, the cycle after its last beat. A burst ends only once the
        # response before it is taken (the NPU takes each at once), so one register holds it.
        with m.If(last):
            m.d.sync += [
                bus.bid.eq(burst_id),
                bus.bvalid.eq(1),
                bus.bresp.eq(Mux(failed | (addr >= self.words), SLVERR, OKAY)),
            ]
        with m.Elif(bus.bready):
            m.d.sync += bus.bvalid.eq(0)


class ReadQueue(wiring.Component):
    """Reads of a memory into a queue that a stream drains. A read is issued (`issue`) while
    one is wanted and the queue has room for it beside those on their way, so no word is lost
    while the stream waits; each word leaves with the `tag` given at its issue. The memory
    gives a word `latency` cycles after its read (a memory_port: PORT_LATENCY).

    The decision reaches the memory's address, so the room is a flip-flop of its own: the
    places neither filled nor promised are counted, and whether one is left next cycle is
    chosen by this cycle's issue and departure among comparisons already made (summing the
    queue's level and the reads on their way, then comparing, held the ULX3S's clock)."""

    def __init__(
        self, data_width: int, tag: data.StructLayout | None = None, latency: int = PORT_LATENCY
    ) -> None:
        tags = {} if tag is None else {"tag": In(tag), "tag_out": Out(tag)}
        super().__init__(
            {
                "want": In(1),
                "issue": Out(1),
                "data": In(data_width),  # the memory's rd_data
                "valid": Out(1),
                "ready": In(1),
                "word": Out(data_width),
                **tags,
            }
        )
        self.width = data_width
        self.tag_bits = 0 if tag is None else tag.size
        self.latency = latency
        # Words read or on their way: enough for a beat every cycle.
        self.depth = latency + 2

    def elaborate(self, platform: object) -> Module:
        m = Module()
        tag_bits = self.tag_bits
        m.submodules.queue = queue = fifo.SyncFIFO(width=self.width + tag_bits, depth=self.depth)
        coming = [Signal(name=f"coming_{k}") for k in range(self.latency)]
        free = Signal(range(self.depth + 1), init=self.depth)
        room = Signal(init=1)
        leaving = self.ready & queue.r_rdy
        m.d.comb += self.issue.eq(self.want & room)
        m.d.sync += [
            free.eq(free - self.issue + leaving),
            room.eq(
                Mux(
                    self.issue,
                    leaving | (free > 1),
                    leaving | (free != 0),
                )
            ),
        ]
        m.d.sync += coming[0].eq(self.issue)
        for k in range(1, self.latency):
            m.d.sync += coming[k].eq(coming[k - 1])
        m.d.comb += [
            queue.w_en.eq(coming[-1]),
            queue.w_data[: self.width].eq(self.data),
            self.valid.eq(queue.r_rdy),
            queue.r_en.eq(self.ready),
            self.word.eq(queue.r_data[: self.width]),
        ]
        if tag_bits:
            tags = [Signal(tag_bits, name=f"tag_{k}") for k in range(self.latency)]
            m.d.sync += tags[0].eq(self.tag)
            for k in range(1, self.latency):
                m.d.sync += tags[k].eq(tags[k - 1])
            m.d.comb += [
                queue.w_data[self.width :].eq(tags[-1]),
                self.tag_out.eq(queue.r_data[self.width :]),
            ]
        return m


# Words of each bank of a BlockRam: one block deep (an ECP5 DP16KD of 2,048 x 9 per byte), so
# that a bank's register follows its blocks with no multiplexer between.
BANK_WORDS = 2048
# Banks whose words one register per group selects from, before the last multiplexer.
GROUP_BANKS = 4


class BlockRam(wiring.Component):
    """A memory_port backed by FPGA block RAM: the board's system memory.

    Banks of BANK_WORDS words, each read every cycle (a read has no side effect) and its word
    registered; then a register per GROUP_BANKS banks holds the word of the
    bank addressed, and the group addressed is `rd_data`, PORT_LATENCY cycles after the read.
    A write lands the cycle after the port shows it: its enable, address and data are
    registered first, so that no logic before the port (the AXI4 slave's, the host port's)
    drives the many blocks of a large memory directly. It lands no later than the AXI4 write
    response (the cycle after the burst's last beat), so a master that waits for its response
    reads what it wrote; the host port's reads come long after its writes."""

    def __init__(
        self, word_addr_width: int, data_width: int, words: int, init: Sequence[int] = ()
    ) -> None:
        self.words = words
        self.data_width = data_width
        self.init = list(init)
        super().__init__({"port": In(memory_port(word_addr_width, data_width))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        port = self.port
        bank_words = min(BANK_WORDS, 1 << bits_for(max(self.words - 1, 1)))
        banks = -(-self.words // bank_words)
        low = exact_log2(bank_words)
        high_bits = max(bits_for(banks - 1), 1)
        wr_en = Signal(self.data_width // 8)
        wr_addr = Signal.like(port.wr_addr)
        wr_data = Signal.like(port.wr_data)
        m.d.sync += [
            wr_addr.eq(port.wr_addr),
            wr_data.eq(port.wr_data),
            wr_en.eq(Mux(port.wr_en, port.wr_strb, 0)),
        ]
        # The bank read, as the banks' registers, the groups' and `rd_data` see it.
        bank_at = [Signal(high_bits, name=f"bank_at_{k}") for k in range(PORT_LATENCY)]
        m.d.sync += bank_at[0].eq(port.rd_addr[low : low + high_bits])
        for k in range(1, PORT_LATENCY):
            m.d.sync += bank_at[k].eq(bank_at[k - 1])
        staged = []
        for k in range(banks):
            depth = min(bank_words, self.words - k * bank_words)
            init = self.init[k * bank_words : k * bank_words + depth]
            ram = Memory(shape=self.data_width, depth=depth, init=init)
            m.submodules[f"bank_{k}"] = ram
            read = ram.read_port()
            write = ram.write_port(granularity=8)
            word = Signal(self.data_width, name=f"bank_{k}_word")
            mine = wr_addr[low : low + high_bits] == k
            m.d.comb += [
                read.addr.eq(port.rd_addr[:low]),
                write.addr.eq(wr_addr[:low]),
                write.data.eq(wr_data),
                write.en.eq(Mux(mine, wr_en, 0)),
            ]
            m.d.sync += word.eq(read.data)
            staged.append(word)
        in_group = exact_log2(GROUP_BANKS)
        groups = []
        for g in range(0, banks, GROUP_BANKS):
            group = Signal(self.data_width, name=f"group_{g // GROUP_BANKS}_word")
            m.d.sync += group.eq(Array(staged[g : g + GROUP_BANKS])[bank_at[1][:in_group]])
            groups.append(group)
        if len(groups) == 1:
            m.d.comb += port.rd_data.eq(groups[0])
        else:
            m.d.comb += port.rd_data.eq(Array(groups)[bank_at[2][in_group:]])
        return m
