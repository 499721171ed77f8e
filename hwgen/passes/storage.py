"""Where each tensor's values live in L2: the buffers the memory plan allocates.

The host C stores tensors NHWC (a matrix rows x features as H x 1 x C). The NPU reads and
writes them NHWC with the channels padded to blocks of M (its words are M channels of a pixel):
for a tensor whose channel count is a multiple of M both are the same buffer. Otherwise a tensor
the NPU touches has a padded buffer of its own (`name#npu`), and the host C copies between the
two where the other side needs them: `pack` before the NPU's first reader of a tensor the host
made (or a graph input), `unpack` after the NPU made one the host reads (or a graph output).
"""

from __future__ import annotations

from dataclasses import dataclass

from hwgen.ir import Graph, Target

NPU_SUFFIX = "#npu"


@dataclass(frozen=True)
class View:
    """A tensor's values laid out one way: h x w pixels of c channels, `stride` channels apart."""

    buffer: str
    h: int
    w: int
    c: int
    stride: int
    itemsize: int

    @property
    def bytes(self) -> int:
        return self.h * self.w * self.stride * self.itemsize


@dataclass(frozen=True)
class Storage:
    host: View | None  # the dense NHWC buffer, if the host or the graph's user sees it
    npu: View | None  # the NPU's padded buffer, if the NPU touches the tensor
    pack: bool = False  # the host copies host -> npu before the NPU's first reader
    unpack: bool = False  # ... npu -> host after the NPU wrote it


@dataclass(frozen=True)
class Buffer:
    name: str
    size: int
    first: int  # the step that writes it first (-1: before the first node)
    last: int  # the last step that reads it (len(nodes): after the last node)


def _hwc(graph: Graph, tensor: str) -> tuple[int, int, int]:
    shape = graph.type_of(tensor).shape
    if len(shape) == 4:  # a batch of images one after another (batch 1 but for element-wise ops)
        return shape[0] * shape[2], shape[3], shape[1]
    if len(shape) == 2:
        return shape[0], 1, shape[1]
    size = graph.type_of(tensor).size
    return size, 1, 1


def plan(graph: Graph, array: int) -> tuple[dict[str, Storage], list[Buffer]]:
    """The storage of every runtime tensor, and the buffers it takes with their lifetimes."""
    end = len(graph.nodes)
    producer: dict[str, tuple[int, Target | None]] = {n: (-1, None) for n in graph.inputs}
    readers: dict[str, list[tuple[int, Target]]] = {}
    for index, node in enumerate(graph.nodes):
        for name in node.inputs:
            if not graph.is_constant(name):
                readers.setdefault(name, []).append((index, node.target))
        for name in node.outputs:
            producer[name] = (index, node.target)
    storage: dict[str, Storage] = {}
    buffers: list[Buffer] = []
    for name, (first, made_by) in producer.items():
        h, w, c = _hwc(graph, name)
        itemsize = graph.type_of(name).dtype.numpy.itemsize
        reads = readers.get(name, [])
        is_output = name in graph.outputs
        npu_reads = [i for i, target in reads if target is Target.NPU]
        host_reads = [i for i, target in reads if target is not Target.NPU]
        npu_side = made_by is Target.NPU or bool(npu_reads)
        last_any = max([i for i, _ in reads] + ([end] if is_output else []), default=first)
        padded = -(-c // array) * array
        if not npu_side or padded == c:
            view = View(name, h, w, c, c, itemsize)
            storage[name] = Storage(view, view if npu_side else None)
            buffers.append(Buffer(name, view.bytes, first, last_any))
            continue
        host_seen = made_by is not Target.NPU or bool(host_reads) or is_output
        npu_view = View(name + NPU_SUFFIX, h, w, c, padded, itemsize)
        pack = made_by is not Target.NPU
        npu_first = min(npu_reads) if pack else first
        buffers.append(
            Buffer(npu_view.buffer, npu_view.bytes, npu_first, max(npu_reads, default=first))
        )
        host_view = View(name, h, w, c, c, itemsize) if host_seen else None
        if host_view is not None:
            host_last = max(
                host_reads + ([end] if is_output else []) + (npu_reads if pack else []),
                default=first,
            )
            buffers.append(Buffer(name, host_view.bytes, first, host_last))
        storage[name] = Storage(
            host_view, npu_view, pack, unpack=host_view is not None and not pack
        )
    return storage, buffers
