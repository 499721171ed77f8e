"""The compiled graph as files of a build: graph.json (nodes, types, typed attributes) and
graph.npz (every array: constants, multipliers, per-channel parameters, bit for bit).

Only the IR's own types are written and read back (a fixed table of dataclasses and enums),
so a build directory never runs code on loading."""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hwgen.errors import HwgenError
from hwgen.ir import ops
from hwgen.ir.geometry import Conv2dGeometry
from hwgen.ir.graph import Graph, Node, Target
from hwgen.ir.types import DType, QType, Quant

FORMAT = 1

_DATACLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Conv2dGeometry,
        Quant,
        QType,
        ops.ShiftRequantAttrs,
        ops.Requant,
        ops.LinearAttrs,
        ops.ConvAttrs,
        ops.MatMulAttrs,
        ops.PoolAttrs,
        ops.IntPoolAttrs,
        ops.GlobalPoolAttrs,
        ops.ClampAttrs,
        ops.TransposeAttrs,
        ops.SliceAttrs,
        ops.IntReduceAttrs,
        ops.IntHardswishAttrs,
        ops.LookupAttrs,
        ops.MulAttrs,
        ops.ResizeAttrs,
        ops.ArithStep,
        ops.ArithAttrs,
        ops.FloatSoftmaxAttrs,
        ops.SoftmaxAttrs,
        ops.GatherAttrs,
        ops.ConcatAttrs,
        ops.PadAttrs,
        ops.Im2ColAttrs,
        ops.NoAttrs,
    )
}
_ENUMS: dict[str, type[enum.Enum]] = {
    cls.__name__: cls
    for cls in (
        DType,
        ops.OpKind,
        ops.OutputMode,
        ops.PoolRounding,
        ops.ResizeKind,
        ops.ArithKind,
        Target,
    )
}


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, npt.NDArray[np.generic]] = {}

    def array(self, value: npt.NDArray[np.generic]) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return key

    def encode(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return {"array": self.array(value)}
        if isinstance(value, enum.Enum):
            return {"enum": type(value).__name__, "value": value.value}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            name = type(value).__name__
            if name not in _DATACLASSES:
                raise TypeError(f"{name} is not an IR type")
            fields = {
                f.name: self.encode(getattr(value, f.name)) for f in dataclasses.fields(value)
            }
            return {"type": name, "fields": fields}
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(f"{type(value).__name__} has no place in the IR")


def _decode(value: Any, arrays: dict[str, npt.NDArray[np.generic]]) -> Any:
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "array" in value:
        return arrays[value["array"]]
    if "enum" in value:
        return _ENUMS[value["enum"]](value["value"])
    if "tuple" in value:
        return tuple(_decode(v, arrays) for v in value["tuple"])
    cls = _DATACLASSES[value["type"]]
    return cls(**{k: _decode(v, arrays) for k, v in value["fields"].items()})


def save_graph(graph: Graph, directory: Path) -> None:
    writer = _Writer()
    body = {
        "format": FORMAT,
        "name": graph.name,
        "inputs": graph.inputs,
        "outputs": graph.outputs,
        "tensors": {name: writer.encode(qtype) for name, qtype in graph.tensors.items()},
        "constants": {name: writer.array(np.asarray(v)) for name, v in graph.constants.items()},
        "nodes": [
            {
                "name": node.name,
                "op": writer.encode(node.op),
                "inputs": list(node.inputs),
                "outputs": list(node.outputs),
                "attrs": writer.encode(node.attrs),
                "origin": list(node.origin),
                "target": writer.encode(node.target),
                "reason": node.reason,
            }
            for node in graph.nodes
        ],
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "graph.json").write_text(json.dumps(body, indent=1) + "\n")
    savez: Any = np.savez  # numpy's stub types **kwds as its own flags
    savez(directory / "graph.npz", **writer.arrays)


def load_graph(directory: Path) -> Graph:
    try:
        body = json.loads((directory / "graph.json").read_text())
        with np.load(directory / "graph.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        if body.get("format") != FORMAT:
            raise ValueError(f"format {body.get('format')}, this hwgen reads {FORMAT}")
        graph = Graph(
            body["name"],
            tensors={k: _decode(v, arrays) for k, v in body["tensors"].items()},
            constants={k: arrays[v] for k, v in body["constants"].items()},
            inputs=list(body["inputs"]),
            outputs=list(body["outputs"]),
        )
        for entry in body["nodes"]:
            graph.nodes.append(
                Node(
                    name=entry["name"],
                    op=_decode(entry["op"], arrays),
                    inputs=tuple(entry["inputs"]),
                    outputs=tuple(entry["outputs"]),
                    attrs=_decode(entry["attrs"], arrays),
                    origin=tuple(entry["origin"]),
                    target=_decode(entry["target"], arrays),
                    reason=entry["reason"],
                )
            )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HwgenError(f"'{directory}': the compiled graph cannot be read ({exc})") from None
    return graph
