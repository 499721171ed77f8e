"""A network's host C, built as a shared library and loaded, with an NPU behind its HAL (the
functional model, the RTL in co-simulation, or a board), every layer checked against the golden
model as it is produced."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hwgen.backends import golden
from hwgen.codegen.c_abi import CNetwork, LayerC, TensorLayout
from hwgen.errors import HwgenError
from hwgen.ir import Graph
from hwgen.npu.errors import NpuError


class NpuPort(Protocol):
    """What the HAL's NPU calls reach: the functional model, the RTL or a board. System memory
    is the generated C's own array, attached by address: shared as it is with the functional
    model and the co-simulation (flush and invalidate do nothing), mirrored on a board."""

    def read32(self, offset: int) -> int: ...
    def write32(self, offset: int, value: int) -> None: ...
    def wait(self) -> None: ...  # until the NPU's interrupt is raised
    def attach(self, address: int, size: int) -> None: ...
    def flush(self, offset: int, size: int) -> None: ...
    def invalidate(self, offset: int, size: int) -> None: ...


def to_nhwc(value: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    if value.ndim == 3 and value.shape[0] == 1:  # [1, C, L]: an image of height 1
        return np.ascontiguousarray(value.transpose(0, 2, 1))
    return np.ascontiguousarray(value.transpose(0, 2, 3, 1)) if value.ndim == 4 else value


def from_nhwc(data: bytes, layout: TensorLayout, shape: tuple[int, ...]) -> npt.NDArray[np.generic]:
    """The tensor of `shape` from its stored bytes (channels `layout.stride` apart)."""
    flat = np.frombuffer(data, dtype=layout.dtype.numpy).copy()
    if layout.channel_stride != layout.c:
        flat = flat.reshape(-1, layout.channel_stride)[:, : layout.c].reshape(-1)
    if len(shape) == 4:
        n, c, h, w = shape
        return np.ascontiguousarray(flat.reshape(n, h, w, c).transpose(0, 3, 1, 2))
    if len(shape) == 3 and shape[0] == 1:
        return np.ascontiguousarray(flat.reshape(1, layout.w, layout.c).transpose(0, 2, 1))
    return flat.reshape(shape)  # matrices, and batches of them, row by row


@dataclass(frozen=True)
class Mismatch:
    layer: str
    tile: int
    element: tuple[int, ...]
    expected: object
    got: object
    count: int

    def describe(self) -> str:
        return (
            f"layer '{self.layer}', tile {self.tile}, element {list(self.element)}: "
            f"expected {self.expected}, got {self.got} ({self.count} elements differ)"
        )


class BitMismatchError(AssertionError):
    def __init__(self, mismatch: Mismatch) -> None:
        self.mismatch = mismatch
        super().__init__(mismatch.describe())


_READ32 = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_uint32)
_WRITE32 = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32)
_WAIT = ctypes.CFUNCTYPE(None)
_ATTACH = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_size_t)
_RANGE = ctypes.CFUNCTYPE(None, ctypes.c_size_t, ctypes.c_size_t)
_TRACE = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)


class NpuCounters(ctypes.Structure):
    """npu_counters_t (sw/npu.h)."""

    _fields_ = [
        ("busy_cycles", ctypes.c_uint32),
        ("load_cycles", ctypes.c_uint32),
        ("core_cycles", ctypes.c_uint32),
        ("store_cycles", ctypes.c_uint32),
        ("mac_cycles", ctypes.c_uint32),
    ]


class _Callbacks(ctypes.Structure):
    _fields_ = [
        ("read32", _READ32),
        ("write32", _WRITE32),
        ("wait", _WAIT),
        ("sysmem_attach", _ATTACH),
        ("sysmem_flush", _RANGE),
        ("sysmem_invalidate", _RANGE),
        ("trace_layer", _TRACE),
    ]


class HostProgram:
    """A loaded network library, its HAL connected to `npu`."""

    def __init__(self, library: Path, network: CNetwork, graph: Graph, npu: NpuPort) -> None:
        self.network = network
        self.graph = graph
        self.lib = ctypes.CDLL(str(library.resolve()))
        self.trace: Callable[[int, bytes], None] | None = None
        # ctypes prints and drops an exception raised in a callback, and C carries on: the
        # first one is kept here and raised once control is back in Python.
        self._failure: BaseException | None = None

        def guarded(fn: Callable[..., Any], default: Any = None) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                if self._failure is not None:
                    return default
                try:
                    return fn(*args)
                except BaseException as exc:  # handed back to the caller of the C
                    self._failure = exc
                    return default

            return call

        def trace(layer: int, ptr: int, size: int) -> None:
            if self.trace is not None:
                self.trace(layer, ctypes.string_at(ptr, size))

        # Kept on the object: ctypes callbacks must outlive every call into C. After a
        # failure, register reads answer all ones (DONE set) so that the C stops waiting.
        self._callbacks = _Callbacks(
            _READ32(guarded(npu.read32, 0xFFFFFFFF)),
            _WRITE32(guarded(npu.write32)),
            _WAIT(guarded(npu.wait)),
            _ATTACH(guarded(lambda ptr, size: npu.attach(int(ptr), int(size)))),
            _RANGE(guarded(npu.flush)),
            _RANGE(guarded(npu.invalidate)),
            _TRACE(guarded(trace)),
        )
        self.lib.hal_install(ctypes.byref(self._callbacks))
        status = self.lib.network_init()
        self._raise_failure()
        if status != 0:
            raise HwgenError(f"network_init failed ({status}): the NPU does not match this C")

    def run(self, inputs: Mapping[str, npt.ArrayLike]) -> dict[str, npt.NDArray[np.generic]]:
        feeds = golden.check_inputs(self.graph, inputs)
        in_buffers = [np.ascontiguousarray(to_nhwc(feeds[name])) for name, _ in self.network.inputs]
        out_buffers = [
            ctypes.create_string_buffer(layout.bytes) for _, layout in self.network.outputs
        ]
        in_ptrs = (ctypes.c_void_p * len(in_buffers))(*(b.ctypes.data for b in in_buffers))
        out_ptrs = (ctypes.c_void_p * len(out_buffers))(
            *(ctypes.cast(b, ctypes.c_void_p).value for b in out_buffers)
        )
        status = self.lib.network_run(in_ptrs, out_ptrs)
        self._raise_failure()
        if status != 0:
            layer = self.network.layers[status - 1]
            code, command = ctypes.c_int(), ctypes.c_uint32()
            self.lib.network_npu_error(ctypes.byref(code), ctypes.byref(command))
            raise HwgenError(
                f"the NPU stopped with {NpuError(code.value).name} at command {command.value} "
                "of its program",
                node=layer.node,
            )
        return {
            name: from_nhwc(buffer.raw, layout, self.graph.type_of(name).shape)
            for (name, layout), buffer in zip(self.network.outputs, out_buffers, strict=True)
        }

    def npu_counters(self) -> NpuCounters:
        """The NPU's counters over the last NPU layer's programs, as the driver summed them."""
        counters = NpuCounters()
        self.lib.network_npu_counters(ctypes.byref(counters))
        return counters

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def run_checked(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        after_layer: Callable[[LayerC], None] | None = None,
    ) -> dict[str, npt.NDArray[np.generic]]:
        """Run, comparing every layer's output with the golden model as it is produced;
        `after_layer` sees each layer once it has been checked."""
        expected: dict[str, npt.NDArray[np.generic]] = {}
        golden.run(
            self.graph,
            inputs,
            observe=lambda node, value: expected.__setitem__(node.outputs[0], value),
        )

        def check(index: int, data: bytes) -> None:
            layer = self.network.layers[index]
            want = expected[layer.output]
            got = from_nhwc(data, layer.layout, want.shape)
            same = (
                got.view(np.uint8) == want.view(np.uint8)
                if got.dtype.kind != "f"
                else (got.view(np.uint32) == want.view(np.uint32))
            )
            if not same.all():
                element = tuple(int(i) for i in np.argwhere(~same)[0])
                nhwc = np.flatnonzero(np.logical_not(to_nhwc(same)))[0]
                tile = layer.tile_of(int(nhwc))
                raise BitMismatchError(
                    Mismatch(
                        layer.node, tile, element, want[element], got[element], int((~same).sum())
                    )
                )
            if after_layer is not None:
                after_layer(layer)

        self.trace = check
        try:
            return self.run(inputs)
        finally:
            self.trace = None
