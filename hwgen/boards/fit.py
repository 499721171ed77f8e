"""Whether a compiled NPU, its bridge and its system memory fit a board, known at compile time:
the block RAMs and multipliers they take, estimated from the design itself.

The memories are read from the elaborated design (BridgedNpu: every Memory of the NPU, the
system memory, the bridge's buffer), so the estimate cannot drift from the RTL. Each memory is
costed the way yosys maps it: a memory of a few words goes to LUT RAM; otherwise each write lane
(a memory written a lane at a time keeps its lanes in blocks of their own) takes the fewest
blocks over the block RAM's width-depth shapes. On the ULX3S's NPU this is DP16KD for DP16KD what
yosys infers. Multipliers: one per product of the array, one per partial product of each requant
lane's wide product, one for command setup. Logic is only known after place and route
(`hwgen fpga`)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from amaranth.hdl import Fragment, Shape
from amaranth.hdl._mem import MemoryInstance

from hwgen.boards.targets import Board
from hwgen.errors import HwgenError
from hwgen.npu.config import NpuConfig

# (words, bits) shapes a block RAM can take, per family, and its bytes (without parity).
BLOCK_SHAPES = {
    "ecp5": ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
    "ice40": ((2048, 2), (1024, 4), (512, 8), (256, 16)),
}
BLOCK_BYTES = {"ecp5": 2048, "ice40": 512}
# Memories this shallow are not block RAM: LUT RAM on an ECP5 (a FIFO's), flip-flops on an
# iCE40, which has no LUT RAM and puts a memory of 16 words in a block.
SMALL_MEMORY_DEPTH = {"ecp5": 16, "ice40": 15}
# Multipliers of one requant lane's wide product (hwgen.npu.requant.SplitProduct): four
# partial products; at an interval above 1 (SerialProduct) one, used over several cycles.
REQUANT_MULTIPLIERS = {1: 4, 2: 1, 4: 1}


@dataclass(frozen=True)
class MemoryUse:
    path: str  # where in the design
    width: int
    depth: int
    lanes: int  # write enables: lanes written apart
    blocks: int

    @property
    def part(self) -> str:
        """What the memory is for, as the fit report groups them."""
        if self.path.startswith("npu/"):
            return "commands" if self.path.endswith("/program") else "NPU buffers"
        return "system memory" if self.path.startswith("ram/") else "bridge"


def blocks_for(width: int, depth: int, lanes: int, family: str) -> int:
    if depth <= SMALL_MEMORY_DEPTH[family]:
        return 0
    lane = -(-width // lanes)
    per_lane = min(-(-depth // d) * -(-lane // w) for d, w in BLOCK_SHAPES[family])
    return lanes * per_lane


def memories(config: NpuConfig, board: Board) -> list[MemoryUse]:
    """The memories of the bridged NPU as it is built for the board's device (its choices of
    primitives and memory structure are the device's: hwgen.npu.device)."""
    from hwgen.boards.top import BridgedNpu

    family = board.family.name

    found: list[MemoryUse] = []

    def walk(fragment: Fragment, path: str) -> None:
        if isinstance(fragment, MemoryInstance):
            data = fragment._data
            width, depth = Shape.cast(data.shape).width, data.depth
            lanes = max((len(port._en) for port in fragment._write_ports), default=1)
            found.append(
                MemoryUse(path, width, depth, lanes, blocks_for(width, depth, lanes, family))
            )
        for sub, name, _ in fragment.subfragments:
            walk(sub, f"{path}/{name}" if path else str(name))

    # The divisor only sizes the UART's counters.
    device = SimpleNamespace(device=board.device)
    walk(Fragment.get(BridgedNpu(config, 16, board.sysmem_bytes), device), "")
    return found


@dataclass(frozen=True)
class Fit:
    board: Board
    memories: list[MemoryUse]
    block_capacity: int
    multipliers: int

    @property
    def blocks(self) -> int:
        return sum(m.blocks for m in self.memories)

    def blocks_by_part(self) -> dict[str, int]:
        parts: dict[str, int] = {}
        for m in self.memories:
            parts[m.part] = parts.get(m.part, 0) + m.blocks
        return parts

    @property
    def fits(self) -> bool:
        return self.blocks <= self.block_capacity and self.multipliers <= self.board.capacity.dsp

    def describe(self) -> str:
        parts = ", ".join(f"{name} {count}" for name, count in self.blocks_by_part().items())
        return (
            f"{self.blocks} of {self.block_capacity} block RAMs ({parts}), "
            f"{self.multipliers} of {self.board.capacity.dsp} multipliers"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "board": self.board.name,
            "fits": self.fits,
            "block_rams": self.blocks,
            "block_rams_available": self.block_capacity,
            "block_rams_by_part": self.blocks_by_part(),
            "multipliers": self.multipliers,
            "multipliers_available": self.board.capacity.dsp,
        }


def multipliers(config: NpuConfig, family: str) -> int:
    if family == "ice40":
        # Two of the array's products per SB_MAC16 (hwgen.npu.mac_array), the rest in logic;
        # yosys infers no other multiplier for an iCE40.
        return -(-(config.array**2) // 2)
    setup = 0 if config.serial_setup else 1
    requant = config.requant_lanes * REQUANT_MULTIPLIERS[config.requant_interval]
    return config.array**2 + requant + setup


def fit(config: NpuConfig, board: Board) -> Fit:
    family = board.family.name
    return Fit(
        board,
        memories(config, board),
        board.capacity.bram_bytes // BLOCK_BYTES[family],
        min(multipliers(config, family), board.capacity.dsp)
        if family == "ice40"
        else multipliers(config, family),
    )


def check_fit(config: NpuConfig, board: Board) -> Fit:
    """The fit, or a refusal naming what is over and what would do."""
    found = fit(config, board)
    if found.fits:
        return found
    over = []
    if found.blocks > found.block_capacity:
        over.append(
            f"{found.blocks} block RAMs of {found.block_capacity} "
            f"({', '.join(f'{k} {v}' for k, v in found.blocks_by_part().items())}): smaller "
            "buffers (--act-kib, --weight-kib, --out-kib) would do"
        )
    if found.multipliers > board.capacity.dsp:
        over.append(
            f"{found.multipliers} multipliers of {board.capacity.dsp}: a smaller array "
            "(--array) or fewer requant lanes (--requant-lanes) would do"
        )
    raise HwgenError(f"the NPU does not fit the {board.description}: " + "; ".join(over))
