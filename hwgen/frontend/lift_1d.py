"""1-D integer networks (EEG and TCN networks, Deeploy's 1-D kernels) as images of height 1.

A [N, C, L] tensor is the [N, C, 1, L] image stored the same way (NHWC: L pixels of C
channels), so the 1-D convolutions and pools become the 2-D ones the NPU and the host kernels
already run, with kernel (1, k), stride (1, s), dilation (1, d) and pads (0, b, 0, e). The
rewrite is on the ONNX graph, before lowering: each 3-D graph input is reshaped to 4-D once,
every op below that keeps its operand's rank is rewritten for 4-D, and a Reshape back to 3-D
stands before any other op and before each 3-D graph output.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from hwgen.frontend.model import OnnxView, index_model

WINDOWED = {"Conv", "MaxPool", "AveragePool"}
# Element-wise ops (constants broadcast against [N, C, L] are given their H axis too), and ops
# that act on channels only.
ELEMENTWISE = {
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Floor",
    "Clip",
    "Relu",
    "Cast",
    "RequantShift",
    "Requant",
    "GlobalAveragePool",
    "GlobalMaxPool",
}
LIFTED = WINDOWED | ELEMENTWISE | {"Pad", "Concat"}
AS_1D = [0, 0, -1]  # [N, C, 1, L] -> [N, C, L]: ONNX Reshape's 0 keeps the input's extent


def _widen_window(node: onnx.NodeProto) -> None:
    """kernel_shape, strides, dilations and pads of a 1-D window as those of a 2-D one."""
    for attribute in node.attribute:
        if attribute.name in ("kernel_shape", "strides", "dilations") and len(attribute.ints) == 1:
            attribute.ints[:] = [1, attribute.ints[0]]
        elif attribute.name == "pads" and len(attribute.ints) == 2:
            attribute.ints[:] = [0, attribute.ints[0], 0, attribute.ints[1]]


def _pads_4d(pads: list[int]) -> list[int]:
    """[b0, b1, b2, e0, e1, e2] of a 3-D Pad as [b0, b1, 0, b2, e0, e1, 0, e2]."""
    return [pads[0], pads[1], 0, pads[2], pads[3], pads[4], 0, pads[5]]


def _with_h_axis(value: np.ndarray) -> np.ndarray:
    """A constant broadcast against [N, C, L], reshaped to broadcast against [N, C, 1, L]."""
    if value.ndim == 0:
        return value
    shaped = value.reshape((1,) * (3 - value.ndim) + value.shape) if value.ndim < 3 else value
    return shaped.reshape(shaped.shape[0], shaped.shape[1], 1, shaped.shape[2])


class _Lifter:
    def __init__(self, view: OnnxView) -> None:
        self.view = view
        self.shapes: set[str] = set()  # the 3-D tensors carried as 4-D
        self.unlifted: set[str] = set()  # their 3-D copies, made once for the ops that need one
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.renamed: dict[str, str] = {}  # a constant's name -> its 4-D copy

    def reshape(self, source: str, target: str, shape: list[int]) -> None:
        const = f"{target}.shape"
        self.initializers.append(numpy_helper.from_array(np.array(shape, np.int64), const))
        self.nodes.append(
            helper.make_node("Reshape", [source, const], [target], name=f"{target}.reshape")
        )

    def lift_input(self, name: str, shape: tuple[int, ...]) -> str:
        lifted = f"{name}.as_2d"
        self.reshape(name, lifted, [shape[0], shape[1], 1, shape[2]])
        self.shapes.add(lifted)
        return lifted

    def lifted_constant(self, name: str) -> str:
        if name not in self.renamed:
            value = _with_h_axis(self.view.constants[name])
            self.renamed[name] = f"{name}.as_2d"
            self.initializers.append(numpy_helper.from_array(value, self.renamed[name]))
        return self.renamed[name]

    def run(self, node: onnx.NodeProto, current: dict[str, str]) -> None:
        node = _copy(node)
        node.input[:] = [current.get(i, i) for i in node.input]
        lifted = [i for i in node.input if i in self.shapes]
        if not lifted:
            self.nodes.append(node)
            return
        if node.op_type not in LIFTED or not self._rewrite(node):
            for index, name in enumerate(node.input):
                if name in self.shapes:
                    flat = f"{name}.as_1d"
                    if flat not in self.unlifted:
                        self.unlifted.add(flat)
                        self.reshape(name, flat, AS_1D)
                    node.input[index] = flat
            self.nodes.append(node)
            return
        for index, out in enumerate(node.output):
            lifted_out = f"{out}.as_2d"
            node.output[index] = lifted_out
            current[out] = lifted_out
            self.shapes.add(lifted_out)
        self.nodes.append(node)

    def _rewrite(self, node: onnx.NodeProto) -> bool:
        """Rewrite `node` for 4-D operands in place; False where it cannot be."""
        if node.op_type in WINDOWED:
            return self._window(node)
        if node.op_type == "Pad":
            return self._pad(node)
        if node.op_type == "Concat":
            return self._concat(node)
        return self._elementwise(node)

    def _window(self, node: onnx.NodeProto) -> bool:
        if node.op_type == "Conv":
            weights = self.view.constants.get(node.input[1])
            if weights is None or weights.ndim != 3:
                return False
            name = f"{node.input[1]}.as_2d"
            if node.input[1] not in self.renamed:
                self.renamed[node.input[1]] = name
                image = weights.reshape(weights.shape[0], weights.shape[1], 1, weights.shape[2])
                self.initializers.append(numpy_helper.from_array(image, name))
            node.input[1] = name
        _widen_window(node)
        return True

    def _pad(self, node: onnx.NodeProto) -> bool:
        if len(node.input) > 1 and node.input[1]:  # from opset 11, pads are an input
            pads = self.view.constants.get(node.input[1])
            if pads is None or pads.size != 6:
                return False
            name = f"{node.input[1]}.as_2d"
            wide = np.array(_pads_4d([int(p) for p in pads.reshape(-1)]), np.int64)
            self.initializers.append(numpy_helper.from_array(wide, name))
            node.input[1] = name
        for attribute in node.attribute:
            if attribute.name == "pads":
                if len(attribute.ints) != 6:
                    return False
                attribute.ints[:] = _pads_4d(list(attribute.ints))
        return True

    def _concat(self, node: onnx.NodeProto) -> bool:
        if not all(i in self.shapes for i in node.input):
            return False
        for attribute in node.attribute:
            if attribute.name == "axis":
                axis = attribute.i + 3 if attribute.i < 0 else attribute.i
                attribute.i = 3 if axis == 2 else axis
        return True

    def _elementwise(self, node: onnx.NodeProto) -> bool:
        for index, name in enumerate(node.input):
            if not name or name in self.shapes:
                continue
            if name not in self.view.constants:
                return False  # a runtime operand of another rank
            node.input[index] = self.lifted_constant(name)
        return True


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    copied = onnx.NodeProto()
    copied.CopyFrom(node)
    return copied


def _dims(value: onnx.ValueInfoProto) -> tuple[int, ...]:
    return tuple(d.dim_value for d in value.type.tensor_type.shape.dim)


def lift_1d(model: onnx.ModelProto) -> tuple[onnx.ModelProto, set[str]]:
    """The model with its 3-D activations carried as 4-D images of height 1 (unchanged if no
    graph input is 3-D or no op has a 1-D window), and the names of the Reshape nodes the
    rewrite added."""
    view = index_model(model)
    inputs = {i.name: _dims(i) for i in model.graph.input if i.name in view.input_types}
    flat = {name: shape for name, shape in inputs.items() if len(shape) == 3 and all(shape)}
    if not flat or not any(n.op_type in (*WINDOWED, "Pad") for n in view.nodes):
        return model, set()  # no 1-D window to run as a 2-D one: [B, M, K] stays a batch
    lifter = _Lifter(view)
    current = {name: lifter.lift_input(name, shape) for name, shape in flat.items()}
    for node in view.nodes:
        lifter.run(node, current)
    for output in model.graph.output:
        name = current.get(output.name)
        if name is None:
            continue
        # The op that made the output writes the 4-D copy; the declared name gets it back.
        lifter.reshape(name, output.name, AS_1D)
    lifted = onnx.ModelProto()
    lifted.CopyFrom(model)
    constants = [n for n in model.graph.node if n.op_type == "Constant"]
    del lifted.graph.node[:]
    lifted.graph.node.extend([*constants, *lifter.nodes])
    lifted.graph.initializer.extend(lifter.initializers)
    added = {n.name for n in lifter.nodes if n.name.endswith(".reshape") and n.op_type == "Reshape"}
    return lifted, added - {n.name for n in model.graph.node}
