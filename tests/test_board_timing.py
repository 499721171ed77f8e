"""The late registers of nextpnr's detailed timing report, grouped by the design's names."""

from __future__ import annotations

from hwgen.boards.timing import LateRegister, late_registers, register_of


def endpoint(cell: str, arrival: float) -> dict[str, object]:
    return {"cell": cell, "port": "M", "delay": [arrival / 2, arrival]}


REPORT = {
    "detailed_net_timings": [
        {
            "net": "a",
            "endpoints": [
                endpoint("npu.ram.bank_3_word_TRELLIS_FF_Q_16", 11.2),
                endpoint("npu.ram.bank_3_word_TRELLIS_FF_Q_2", 10.4),
                endpoint("npu.core.read_1_TRELLIS_FF_Q_451", 10.9),
            ],
        },
        {
            "net": "b",
            "endpoints": [
                endpoint("npu.core.weights.bank_0.0.3", 10.1),  # a block RAM's port
                endpoint("npu.core.weights.bank_0.1.3", 10.3),
                endpoint("npu.seq.pc_TRELLIS_FF_Q_3", 9.9),  # in time
            ],
        },
    ]
}


def test_cells_are_named_by_their_register() -> None:
    assert register_of("npu.ram.bank_3_word_TRELLIS_FF_Q_16") == "npu.ram.bank_3_word"
    assert register_of("npu.seq.queue_0$signature__data[3]") == "npu.seq.queue_0"
    assert register_of("npu.core.weights.bank_0.1.3") == "npu.core.weights.bank_0"
    assert register_of("npu.bridge.crc_LUT4_Z_D") == "npu.bridge.crc"


def test_late_registers_are_grouped_latest_first() -> None:
    assert late_registers(REPORT, period_ns=10.0) == [
        LateRegister("npu.ram.bank_3_word", 2, 11.2),
        LateRegister("npu.core.read_1", 1, 10.9),
        LateRegister("npu.core.weights.bank_0", 2, 10.3),
    ]
    assert late_registers(REPORT, period_ns=10.0, limit=1) == [
        LateRegister("npu.ram.bank_3_word", 2, 11.2)
    ]


def test_a_design_in_time_has_none() -> None:
    assert late_registers(REPORT, period_ns=12.0) == []
    assert late_registers({"critical_paths": []}, period_ns=10.0) == []
