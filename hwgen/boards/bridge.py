"""UART <-> NPU bridge: the framing protocol of hwgen/boards/protocol.py on one side, the NPU's
AXI4-Lite registers and AXI4-Stream data port on the other.

A request is only acted on once its CRC has checked: stream-write payloads wait in a buffer
until then. The answer to the last executed request is kept (its status, read word and
stream-read bytes), so a repeated sequence number is answered again without a second effect.
"""

from __future__ import annotations

from typing import Any

from amaranth import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import exact_log2

from hwgen.boards.protocol import (
    HEADER_BYTES,
    REQUEST_SYNC,
    RESPONSE_SYNC,
    Command,
    Status,
    info_word,
)
from hwgen.npu.axi import axi_lite_slave, axi_stream
from hwgen.npu.device import is_ice40


def _crc_step(state: int) -> int:
    """One byte of CRC-16/CCITT-FALSE on a 24-bit (crc, byte) state, as integers."""
    c = (state & 0xFFFF) ^ ((state >> 16) << 8)
    for _ in range(8):
        c = ((c << 1) ^ 0x1021 if c & 0x8000 else c << 1) & 0xFFFF
    return c


def crc16_update(crc: Value, byte: Value) -> Value:
    """The CRC after one more byte. The update is linear over GF(2): each output bit is the
    XOR of the input bits whose unit vectors set it, found by running the integer model."""
    inputs = Cat(crc, byte)
    columns = [_crc_step(1 << k) for k in range(24)]
    bits = []
    for out in range(16):
        taps = [inputs[k] for k in range(24) if columns[k] >> out & 1]
        bit: Value = taps[0]
        for tap in taps[1:]:
            bit = bit ^ tap
        bits.append(bit)
    return Cat(*bits)


class Bridge(wiring.Component):
    def __init__(
        self,
        addr_width: int,
        data_width: int,
        buffer_bytes: int = 256,
        byte_timeout: int = 1 << 16,
        stream_timeout: int = 1 << 20,
    ) -> None:
        if buffer_bytes & (buffer_bytes - 1) or buffer_bytes % (data_width // 8):
            raise ValueError(f"buffer of {buffer_bytes} bytes: a power of two of whole beats")
        self.addr_width = addr_width
        self.data_width = data_width
        self.buffer_bytes = buffer_bytes
        self.byte_timeout = byte_timeout
        self.stream_timeout = stream_timeout
        super().__init__(
            {
                "rx": In(stream.Signature(8, always_ready=True)),
                "tx": Out(stream.Signature(8)),
                "m_axil": In(axi_lite_slave(addr_width)),
                "m_axis": Out(axi_stream(data_width)),
                "s_axis": In(axi_stream(data_width)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        beat_bytes = self.data_width // 8
        size = self.buffer_bytes
        # Request payloads in the lower half, stream-read answers in the upper half.
        m.submodules.buffer = buffer = Memory(shape=8, depth=2 * size, init=[])
        wr = buffer.write_port()
        rd = buffer.read_port()

        # What a request or an answer carries has no reset: each is loaded before it is used,
        # and a reset would join every enable (an iCE40 flip-flop resets only when enabled).
        seq, cmd = Signal(8, reset_less=True), Signal(8, reset_less=True)
        length = Signal(16, reset_less=True)
        # The bus takes no more of the frame's 32 address bits.
        addr = Signal(self.addr_width, reset_less=True)
        index = Signal(16)
        crc = Signal(16, init=0xFFFF)
        idle = Signal(range(max(self.byte_timeout, self.stream_timeout) + 1))
        # The last executed request and its answer.
        last_valid = Signal()
        last_seq, last_cmd = Signal(8, reset_less=True), Signal(8, reset_less=True)
        last_len = Signal(range(size + 1))  # only read for a STREAM_READ that ran
        last_status = Signal(8)
        rdata = Signal(32, reset_less=True)
        nak = Signal()  # the answer is CRC_ERROR for the request just received
        # A stream beat, or a WRITE32's word in its top 32 bits: no request needs both.
        beat = Signal(self.data_width, reset_less=True)
        wdata = beat[-32:]
        # The buffer's byte, registered every cycle before anything reads it: a block RAM's
        # output is slow (5.8 ns on an ECP5), and through the FSM's selects it missed a
        # 100 MHz cycle. A read holds its address for two cycles to see its byte here.
        buffered = Signal(8, reset_less=True)
        m.d.sync += buffered.eq(rd.data)
        # The buffer is read at `index`, in the half of the answer while one is sent: a read
        # has no side effect, and an address chosen by the FSM's state (ten logic levels and
        # a long route to the block) missed a 100 MHz cycle on the ULX3S.
        answering = Signal()
        m.d.comb += rd.addr.eq(Cat(index[: exact_log2(size)], answering))
        head = Signal(8, reset_less=True)  # the answer's next header byte
        lane = Signal(range(max(beat_bytes, 2)))
        axi = self.m_axil
        # The bus's valids are registers, set as the FSM enters the state that needs them and
        # cleared by their handshakes: no decode of the FSM's state lies on the way into the
        # NPU's register writes (on the iCEBreaker that decode was a third of its critical
        # path).
        ar_pending, aw_pending, w_pending = Signal(), Signal(), Signal()
        m.d.comb += [
            axi.araddr.eq(addr),
            axi.arvalid.eq(ar_pending),
            axi.awaddr.eq(addr),
            axi.awvalid.eq(aw_pending),
            axi.wdata.eq(wdata),
            axi.wstrb.eq(0xF),
            axi.wvalid.eq(w_pending),
        ]
        with m.If(axi.arready):
            m.d.sync += ar_pending.eq(0)
        with m.If(axi.awready):
            m.d.sync += aw_pending.eq(0)
        with m.If(axi.wready):
            m.d.sync += w_pending.eq(0)

        byte = self.rx.payload
        got = self.rx.valid
        # The CRC takes each byte the cycle after: the byte received or sent, chosen by the
        # FSM's state, is registered first, so no state decode lies in front of the CRC's
        # network (on the ULX3S the choice and the network in one cycle made 9.8 ns).
        crc_byte = Signal(8)  # the byte received or sent this cycle
        taken = Signal(8, reset_less=True)  # last cycle's, for the CRC
        take = Signal()  # the CRC takes `taken` this cycle
        m.d.comb += crc_byte.eq(byte)
        crc_next = Signal(16)
        m.d.comb += crc_next.eq(Mux(take, crc16_update(crc, taken), crc))
        m.d.sync += [take.eq(0), crc.eq(crc_next)]

        def crc_takes() -> None:
            m.d.sync += [taken.eq(crc_byte), take.eq(1)]

        # Worked out from the header and registered: every use comes at least a cycle after
        # the header's last byte (the CRC follows it), and the FSM's decisions then need no
        # comparator of their own.
        bad_request = Signal()
        last_index = Signal(16)  # length - 1
        stream_len_ok = (length != 0) & (length <= size) & ((length & (beat_bytes - 1)) == 0)
        m.d.sync += last_index.eq(length - 1)
        with m.Switch(cmd):
            with m.Case(Command.HELLO, Command.READ32):
                m.d.sync += bad_request.eq(length != 0)
            with m.Case(Command.WRITE32):
                m.d.sync += bad_request.eq(length != 4)
            with m.Case(Command.STREAM_WRITE, Command.STREAM_READ):
                m.d.sync += bad_request.eq(~stream_len_ok)
            with m.Default():
                m.d.sync += bad_request.eq(1)
        # Likewise a repeat: `seq` is whole two bytes before CHECK, and `last_seq` changes only
        # in CHECK. Deciding from flags keeps CHECK off the iCEBreaker's critical path.
        repeat = Signal()
        m.d.sync += repeat.eq(last_valid & (seq == last_seq))
        crc_bad = Signal()  # set in VERIFY, for the same reason

        def receiving() -> None:
            """Bytes of a request: a silent line mid-frame drops it."""
            with m.If(got):
                m.d.sync += idle.eq(0)
                crc_takes()
            with m.Elif(idle == self.byte_timeout):
                m.next = "HUNT"
            with m.Else():
                m.d.sync += idle.eq(idle + 1)

        # The answer's bytes leave from a register of the bridge's own: the FSM waits for it to
        # be empty, never for the transmitter's `ready`, which would otherwise reach every
        # register a sending state writes (on the iCEBreaker, ten logic levels).
        with m.If(self.tx.ready):
            m.d.sync += self.tx.valid.eq(0)
        sent = ~self.tx.valid

        def send(value: Value, then: str, with_crc: bool = True) -> None:
            m.d.comb += crc_byte.eq(value)
            with m.If(sent):
                m.d.sync += [self.tx.payload.eq(value), self.tx.valid.eq(1)]
                if with_crc:
                    crc_takes()
                m.next = then

        # Registered: what it depends on settles at least three cycles before BODY needs it
        # (SYNC, SEQ and STATUS come between).
        answer_len = Signal(range(size + 1))
        m.d.sync += answer_len.eq(0)
        with m.If(~nak & (last_status == Status.OK)):
            with m.Switch(last_cmd):
                with m.Case(Command.HELLO, Command.READ32):
                    m.d.sync += answer_len.eq(4)
                with m.Case(Command.STREAM_READ):
                    m.d.sync += answer_len.eq(last_len)

        # Whether the answer's body is all sent, and whether its next byte comes from the read
        # word, as registers: BODY decides from them, the byte count's comparator sits beside
        # the send rather than in front of it, and the word's rotation is enabled by three
        # flip-flops.
        body_done = Signal()
        from_word = Signal()

        def body_left(left: Value) -> list[Any]:
            return [body_done.eq(~left), from_word.eq(left & (last_cmd != Command.STREAM_READ))]

        # The index of the answer's last body byte, registered (two cycles still lie between
        # answer_len's inputs and BODY): a byte's send compares its index with it, with no
        # adder in front.
        last_body = Signal(range(size))
        m.d.sync += last_body.eq(answer_len - 1)

        def body_step() -> None:
            m.d.sync += [index.eq(index + 1), *body_left(index[: len(last_body)] != last_body)]

        with m.FSM() as fsm:
            with m.State("HUNT"):
                m.d.sync += [crc.eq(0xFFFF), index.eq(0), idle.eq(0), answering.eq(0)]
                with m.If(got & (byte == REQUEST_SYNC)):
                    m.next = "HEADER"
            with m.State("HEADER"):
                receiving()
                with m.If(got):
                    m.d.sync += index.eq(index + 1)
                    fields = Cat(seq, cmd, length, addr)
                    with m.Switch(index):
                        for k in range(HEADER_BYTES):
                            kept = fields[8 * k : 8 * k + 8]
                            if len(kept):
                                with m.Case(k):
                                    m.d.sync += kept.eq(byte)
                    with m.If(index == HEADER_BYTES - 1):
                        m.d.sync += index.eq(0)
                        has_payload = (cmd == Command.WRITE32) | (cmd == Command.STREAM_WRITE)
                        with m.If(has_payload & (length != 0)):
                            m.next = "PAYLOAD"
                        with m.Else():
                            m.next = "CRC_HI"
            with m.State("PAYLOAD"):
                receiving()
                with m.If(got):
                    m.d.sync += [index.eq(index + 1), beat.eq(Cat(beat[8:], byte))]
                    m.d.comb += [
                        wr.addr.eq(index),
                        wr.data.eq(byte),
                        wr.en.eq((cmd == Command.STREAM_WRITE) & (index < size)),
                    ]
                    with m.If(index == last_index):
                        m.next = "CRC_HI"
            with m.State("CRC_HI"):
                receiving()
                with m.If(got):
                    m.next = "CRC_LO"
            with m.State("CRC_LO"):
                receiving()
                with m.If(got):
                    m.next = "VERIFY"
            with m.State("VERIFY"):  # the CRC's test registered: CHECK decides from flags
                m.d.sync += crc_bad.eq(crc_next != 0)
                m.next = "CHECK"
            with m.State("CHECK"):
                m.d.sync += [nak.eq(0), index.eq(0), idle.eq(0)]
                with m.If(crc_bad):
                    m.d.sync += nak.eq(1)
                    m.next = "SYNC"
                with m.Elif(repeat):
                    m.next = "SYNC"  # a repeat: answer again, do nothing
                with m.Else():
                    m.d.sync += [
                        last_valid.eq(1),
                        last_seq.eq(seq),
                        last_cmd.eq(cmd),
                        last_len.eq(length),
                        last_status.eq(Status.OK),
                    ]
                    with m.If(bad_request):
                        m.d.sync += last_status.eq(Status.BAD_REQUEST)
                        m.next = "SYNC"
                    with m.Else():
                        with m.Switch(cmd):
                            with m.Case(Command.HELLO):
                                m.next = "HELLO"
                            with m.Case(Command.READ32):
                                m.d.sync += ar_pending.eq(1)
                                m.next = "READ_ADDR"
                            with m.Case(Command.WRITE32):
                                m.d.sync += [aw_pending.eq(1), w_pending.eq(1)]
                                m.next = "WRITE"
                            with m.Case(Command.STREAM_WRITE):
                                m.next = "SW_FETCH"
                            with m.Case(Command.STREAM_READ):
                                m.next = "SR_WAIT"

            with m.State("HELLO"):  # `rdata` is written by the fewest states
                m.d.sync += rdata.eq(info_word(size, beat_bytes))
                m.next = "SYNC"
            with m.State("READ_ADDR"):
                with m.If(~ar_pending | axi.arready):
                    m.next = "READ_DATA"
            with m.State("READ_DATA"):
                m.d.comb += axi.rready.eq(1)
                with m.If(axi.rvalid):
                    m.d.sync += rdata.eq(axi.rdata)
                    with m.If(axi.rresp != 0):
                        m.d.sync += last_status.eq(Status.BUS_ERROR)
                    m.next = "SYNC"
            with m.State("WRITE"):
                aw_now = ~aw_pending | axi.awready
                w_now = ~w_pending | axi.wready
                with m.If(aw_now & w_now):
                    m.next = "WRITE_RESP"
            with m.State("WRITE_RESP"):
                m.d.comb += axi.bready.eq(1)
                with m.If(axi.bvalid):
                    with m.If(axi.bresp != 0):
                        m.d.sync += last_status.eq(Status.BUS_ERROR)
                    m.next = "SYNC"

            # Stream write: the buffered payload, byte by byte into beats.
            with m.State("SW_FETCH"):
                m.next = "SW_READ"
            with m.State("SW_READ"):
                m.next = "SW_TAKE"
            with m.State("SW_TAKE"):
                m.d.sync += [
                    beat.eq(Cat(beat[8:], buffered)),
                    index.eq(index + 1),
                    lane.eq(lane + 1),
                ]
                m.next = "SW_FETCH"
                with m.If(lane == beat_bytes - 1):
                    m.d.sync += lane.eq(0)
                    m.next = "SW_SEND"
            with m.State("SW_SEND"):
                m.d.comb += [
                    self.m_axis.tdata.eq(beat),
                    self.m_axis.tvalid.eq(1),
                    self.m_axis.tlast.eq(index == length),
                ]
                with m.If(self.m_axis.tready):
                    m.next = "SW_FETCH"
                    with m.If(index == length):
                        m.next = "SYNC"

            # Stream read: beats into the answer half of the buffer.
            with m.State("SR_WAIT"):
                m.d.comb += self.s_axis.tready.eq(1)
                m.d.sync += idle.eq(idle + 1)
                with m.If(self.s_axis.tvalid):
                    m.d.sync += [beat.eq(self.s_axis.tdata), idle.eq(0)]
                    m.next = "SR_STORE"
                with m.Elif(idle == self.stream_timeout):
                    m.d.sync += last_status.eq(Status.TIMEOUT)
                    m.next = "SYNC"
            with m.State("SR_STORE"):
                m.d.comb += [
                    wr.addr.eq(size + index),
                    wr.data.eq(beat.word_select(lane, 8)),
                    wr.en.eq(1),
                ]
                m.d.sync += [index.eq(index + 1), lane.eq(lane + 1)]
                with m.If(lane == beat_bytes - 1):
                    m.d.sync += lane.eq(0)
                    m.next = "SR_WAIT"
                    with m.If(index == last_index):
                        m.next = "SYNC"

            # The answer.
            # The header's bytes leave from `head`, loaded the state before each is sent: the
            # choice between the request's and the last answer's makes no path into the CRC
            # (the iCEBreaker's critical path went from `nak` through it).
            with m.State("SYNC"):
                m.d.sync += [
                    crc.eq(0xFFFF),
                    index.eq(0),
                    head.eq(Mux(nak, seq, last_seq)),
                    answering.eq(1),
                ]
                send(Const(RESPONSE_SYNC, 8), "SEQ", with_crc=False)
            with m.State("SEQ"):
                send(head, "STATUS")
                with m.If(sent):
                    m.d.sync += head.eq(Mux(nak, Status.CRC_ERROR, last_status))
            with m.State("STATUS"):
                m.d.sync += body_left(answer_len != 0)
                send(head, "BODY")
            with m.State("BODY"):
                with m.If(from_word):
                    # Rotated rather than selected by `index`: the byte the CRC takes comes
                    # straight from a register, and four bytes on the word is whole again
                    # for a repeated request's answer.
                    send(rdata[:8], "BODY")
                    with m.If(sent):
                        m.d.sync += rdata.eq(rdata.rotate_right(8))
                        body_step()
                with m.Elif(body_done):
                    m.next = "CRC_OUT_HI"
                with m.Else():
                    m.next = "BODY_BUFFER"
            with m.State("BODY_BUFFER"):  # the read port has the byte at index
                m.next = "BODY_SEND"
            with m.State("BODY_SEND"):  # `buffered` has it
                send(buffered, "BODY")
                with m.If(sent):
                    body_step()
            with m.State("CRC_OUT_HI"):
                send(crc[8:], "CRC_OUT_LO", with_crc=False)
            with m.State("CRC_OUT_LO"):
                send(crc[:8], "HUNT", with_crc=False)
        # One flip-flop per state: the next-state logic of twenty states, binary encoded,
        # was ten logic levels deep (the iCEBreaker's critical path). Only on an iCE40: yosys
        # drops the state's initial value when it recodes, and there the platform holds the
        # sync reset after configuration, which puts the FSM in HUNT. An ECP5 build resets by
        # GSR to initial values instead, and makes its clock without this.
        if is_ice40(platform):
            fsm.state.attrs["fsm_encoding"] = "one-hot"
        return m
