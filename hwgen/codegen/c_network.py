"""The host C of a compiled network: layer tables, constants, the schedule, the NPU's image and
npu_config.h, rendered from sw/templates with every number computed here; the runtime in sw/ is
copied beside them so that the output directory builds on its own.

System memory (what the NPU sees from bus address 0) is one array of the generated C: the NPU
image (weights, parameters, programs: npu_image.bin, linked in with the assembler's .incbin and
copied in at start) and then L2, where the memory plan puts every tensor. An NPU layer packs its
input into the NPU's channel layout where the host made it in another, flushes what the CPU
wrote, runs its programs, invalidates what the NPU wrote, and unpacks its output for the host
where it needs to (hwgen.passes.storage).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hwgen import __version__
from hwgen.codegen.c_abi import C_DTYPE, CNetwork, LayerC, TensorLayout
from hwgen.codegen.c_host_layers import HostContext, host_layer
from hwgen.compiler import Compilation
from hwgen.ir import Node, Target
from hwgen.npu import csr
from hwgen.npu.config import NpuConfig
from hwgen.passes.storage import View
from hwgen.resources import c_runtime, c_templates
from hwgen.templating import Flavour, environment

RUNTIME = [
    "hal.h",
    "hal_callbacks.c",
    "hal_callbacks.h",
    "kernels.c",
    "kernels.h",
    "layers.h",
    "npu.c",
    "npu.h",
    "tiling.c",
    "tiling.h",
]
IMAGE_FILE = "npu_image.bin"


def npu_config_values(config: NpuConfig) -> dict[str, Any]:
    hw = csr.HwConfig.of(config)
    return {
        "array": config.array,
        "magic": csr.MAGIC,
        "hw_config": hw.word,
        "hw_config_text": hw.describe(),
        "config_id": csr.config_id(config),
        "registers": [(reg.name, int(reg)) for reg in csr.Reg],
        "constants": [
            ("CTRL_START", csr.CTRL_START),
            ("CTRL_IRQ_ENABLE", csr.CTRL_IRQ_ENABLE),
            ("STATUS_BUSY", csr.STATUS_BUSY),
            ("STATUS_DONE", csr.STATUS_DONE),
            ("STATUS_ERROR_SHIFT", csr.STATUS_ERROR_SHIFT),
        ],
    }


class _Schedule:
    """The template's view of each step, and the layer table callers check against."""

    def __init__(self, comp: Compilation) -> None:
        assert comp.memory is not None and comp.image is not None
        self.comp = comp
        self.graph = comp.graph
        self.memory = comp.memory
        self.storage = comp.storage
        self.image = comp.image
        self.host = HostContext(comp.graph, comp.options.l1)
        self.producers = comp.graph.producers()

    def l2(self, view: View) -> int:
        """The view's offset in L2."""
        return self.memory.offset(view.buffer)

    def sysmem(self, view: View) -> int:
        """... and in system memory (the NPU's addresses)."""
        return self.image.l2_base + self.l2(view)

    def host_view(self, tensor: str) -> View:
        view = self.storage[tensor].host
        assert view is not None, tensor
        return view

    def layout(self, view: View, tensor: str) -> TensorLayout:
        dtype = self.graph.type_of(tensor).dtype
        return TensorLayout(view.h, view.w, view.c, dtype, view.stride)

    def step(self, index: int, node: Node) -> tuple[dict[str, Any], LayerC]:
        if node.target is Target.NPU:
            return self._npu(index, node)
        layer = host_layer(self.host, node)
        runtime = [t for t in node.inputs if not self.graph.is_constant(t)]
        out = self.host_view(node.outputs[0])
        entry = {
            **layer.fields,
            "name": node.name,
            "in_offsets": [self.l2(self.host_view(t)) for t in runtime],
            "out_offset": self.l2(out),
            "trace": {"offset": self.l2(out), "bytes": out.bytes},
        }
        layout = TensorLayout.of(self.graph.type_of(node.outputs[0]), f"node '{node.name}'")
        return entry, LayerC(
            index,
            node.name,
            node.outputs[0],
            layout,
            layer.rows_per_tile if layer.window is not None else 0,
            layer.row_elements,
        )

    def _npu(self, index: int, node: Node) -> tuple[dict[str, Any], LayerC]:
        source, target = node.inputs[0], node.outputs[0]
        made_by = self.producers.get(source)
        kept_in, kept_out = self.storage[source], self.storage[target]
        assert kept_in.npu is not None and kept_out.npu is not None
        npu_in, npu_out = kept_in.npu, kept_out.npu
        entry: dict[str, Any] = {
            "kind": "npu",
            "name": node.name,
            "job": None,
            "programs": [
                {"address": p.address, "commands": p.commands}
                for p in self.image.layers[node.name].programs
            ],
            "pack": None,
            "unpack": None,
            # What the CPU wrote for the NPU to read: the input, unless the NPU made it.
            "flush": None
            if made_by is not None and made_by.target is Target.NPU
            else {"offset": self.sysmem(npu_in), "bytes": npu_in.bytes},
            # What the NPU wrote, for the CPU to read (the check of every layer reads it).
            "invalidate": {"offset": self.sysmem(npu_out), "bytes": npu_out.bytes},
        }
        if kept_in.pack:
            entry["pack"] = self._repack(kept_in.host, npu_in, source)
        traced = npu_out
        if kept_out.unpack:
            assert kept_out.host is not None
            entry["unpack"] = self._repack(npu_out, kept_out.host, target)
            traced = kept_out.host
        entry["trace"] = {"offset": self.l2(traced), "bytes": traced.bytes}
        return entry, LayerC(index, node.name, target, self.layout(traced, target), 0, 0)

    def _repack(self, src: View | None, dst: View, tensor: str) -> dict[str, Any]:
        assert src is not None
        return {
            "src": self.l2(src),
            "dst": self.l2(dst),
            "pixels": src.h * src.w,
            "channels": min(src.c, dst.c) * src.itemsize,
            "src_stride": src.stride * src.itemsize,
            "dst_stride": dst.stride * dst.itemsize,
        }


def generate_c(comp: Compilation, directory: Path) -> CNetwork:
    assert comp.npu is not None and comp.memory is not None and comp.image is not None
    directory.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME:
        shutil.copyfile(c_runtime() / name, directory / name)
    (directory / IMAGE_FILE).write_bytes(comp.image.data)
    schedule = _Schedule(comp)
    network = CNetwork(directory)
    layers = []
    for index, node in enumerate(comp.graph.nodes):
        entry, layer = schedule.step(index, node)
        layers.append(entry)
        network.layers.append(layer)
    graph = comp.graph
    io: dict[str, list[dict[str, int]]] = {}
    for key, names, target in (
        ("inputs", graph.inputs, network.inputs),
        ("outputs", graph.outputs, network.outputs),
    ):
        io[key] = []
        for name in names:
            target.append((name, TensorLayout.of(graph.type_of(name), f"graph tensor '{name}'")))
            view = schedule.host_view(name)
            io[key].append({"offset": schedule.l2(view), "bytes": view.bytes})
    banner = f"Generated by hwgen {__version__}; do not edit."
    env = environment(c_templates(), Flavour.C)
    values = {
        "banner": banner,
        "layers": layers,
        "uses_l1": any(entry["job"] or entry["kind"] == "global_avgpool" for entry in layers),
        "uses_repack": any(entry.get("pack") or entry.get("unpack") for entry in layers),
        "l1_bytes": comp.options.l1,
        "image_file": IMAGE_FILE,
        "image_bytes": len(comp.image.data),
        "l2_base": comp.image.l2_base,
        "l2_bytes": max(comp.memory.peak, 64),
        **io,
    }
    for template, filename in (("network.c.j2", "network.c"), ("network.h.j2", "network.h")):
        (directory / filename).write_text(env.get_template(template).render(values))
    (directory / "npu_config.h").write_text(
        env.get_template("npu_config.h.j2").render(
            banner=banner, **npu_config_values(comp.npu.config)
        )
    )
    network.save()
    return network


__all__ = ["C_DTYPE", "generate_c", "npu_config_values"]
