"""State shared by the op lowerings: the IR under construction and access to constants."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from hwgen.errors import DownstreamError, UnsupportedError
from hwgen.frontend.dialect import Dialect
from hwgen.frontend.model import OnnxView
from hwgen.ir import Graph, Node, OpAttrs, OpKind, QType, Quant
from hwgen.ir.types import DType


class LoweringContext:
    """The IR graph being built from one ONNX view, and the ONNX node being lowered."""

    def __init__(self, view: OnnxView) -> None:
        self.view = view
        self.graph = Graph(view.graph.name or "network")
        self.graph.tensors.update(view.input_types)
        self.graph.inputs = list(view.input_types)
        self.graph.outputs = list(view.outputs)
        self.consts: dict[str, npt.NDArray[np.generic]] = dict(view.constants)
        self.node: onnx.NodeProto = onnx.NodeProto()
        # Tensors that the IR holds under another name (a graph input after its cast).
        self.rename: dict[str, str] = {}
        # Resize nodes that onnxruntime runs channels-last, where its result differs.
        self.channels_last: set[str] = set()
        # Integer dialects: the graph's dialect, and per tensor what its values can be (the
        # range, whether whole numbers) and the ONNX type carrying them (lower_arith.py).
        self.dialect: Dialect | None = None
        self.ranges: dict[str, tuple[float, float]] = {}
        self.integral: set[str] = set()
        self.containers: dict[str, DType] = {}

    # -- errors ----------------------------------------------------------------------------

    def unsupported(self, reason: str) -> UnsupportedError:
        return UnsupportedError(reason, node=self.node.name, op=self.node.op_type)

    # -- attributes and inputs -------------------------------------------------------------

    @property
    def opset(self) -> int:
        """The version of the default ONNX domain the model imports."""
        versions = [o.version for o in self.view.model.opset_import if o.domain in ("", "ai.onnx")]
        return versions[0] if versions else 1

    def attr(self, name: str, default: Any = None) -> Any:
        for a in self.node.attribute:
            if a.name == name:
                value = helper.get_attribute_value(a)
                if isinstance(value, onnx.TensorProto):
                    # Deeploy writes RequantShift's div, n_levels_out and signed as tensors.
                    array = numpy_helper.to_array(value)
                    return array.reshape(-1)[0].item() if array.size == 1 else array
                return value.decode() if isinstance(value, bytes) else value
        return default

    def input(self, index: int) -> str | None:
        """The name of input `index`, or None where it is absent or left empty."""
        if index < len(self.node.input) and self.node.input[index]:
            return str(self.node.input[index])
        return None

    def required(self, index: int, what: str) -> str:
        name = self.input(index)
        if name is None:
            raise self.unsupported(f"missing input {index} ({what})")
        return name

    def const(self, index: int, what: str) -> npt.NDArray[np.generic]:
        name = self.required(index, what)
        if name not in self.consts:
            raise self.unsupported(
                f"{what} '{name}' must be a constant (an initializer), not a runtime tensor"
            )
        return self.consts[name]

    def optional_const(self, index: int, what: str) -> npt.NDArray[np.generic] | None:
        return None if self.input(index) is None else self.const(index, what)

    def scalar(self, index: int, what: str) -> float:
        value = self.const(index, what)
        if value.size != 1:
            raise self.unsupported(f"{what} must be a single value, got shape {value.shape}")
        return float(value.reshape(-1)[0])

    def integer_scalar(self, index: int, what: str) -> int | None:
        """An optional constant integer scalar (shape [] or [1], as onnxruntime takes it), in
        whatever type the graph carries it."""
        value = self.optional_const(index, what)
        if value is None:
            return None
        if value.shape not in ((), (1,)):
            raise self.unsupported(f"{what} of shape {list(value.shape)}: a scalar is required")
        number = float(value.reshape(-1)[0])
        if not (np.isfinite(number) and number == int(number)):
            raise self.unsupported(f"{what} {number:g} is not an integer")
        return int(number)

    def tensor(self, index: int, what: str = "input") -> tuple[str, QType]:
        """A data input: a tensor already in the IR, or a constant brought into it."""
        name = self.required(index, what)
        name = self.rename.get(name, name)
        if name not in self.graph.tensors:
            if name in self.consts:
                value = self.consts[name]
                dtype = self._dtype_of(value, name)
                self.graph.constants[name] = value
                self.graph.tensors[name] = QType(dtype, tuple(value.shape))
            else:
                raise DownstreamError(
                    f"{what} '{name}' comes from a node that was not lowered",
                    node=self.node.name,
                    op=self.node.op_type,
                )
        return name, self.graph.tensors[name]

    def _dtype_of(self, value: npt.NDArray[np.generic], name: str) -> DType:
        try:
            return DType.from_numpy(value.dtype)
        except ValueError:
            raise self.unsupported(f"constant '{name}' has element type {value.dtype}") from None

    # -- quantization ----------------------------------------------------------------------

    def quant_of(
        self, scale_index: int, zp_index: int, dtype: DType, axis: int | None = None
    ) -> Quant:
        scale = self.const(scale_index, "scale").astype(np.float32)
        zp_value = self.optional_const(zp_index, "zero point")
        zp = np.zeros(scale.size, np.int32) if zp_value is None else zp_value
        if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
            raise self.unsupported(
                f"scale must be positive and finite, got {scale.reshape(-1)[:4]}"
            )
        if zp_value is not None and DType.from_numpy(zp_value.dtype) is not dtype:
            raise self.unsupported(
                f"zero point type {zp_value.dtype} differs from the tensor type {dtype.value}"
            )
        return Quant.make(scale, np.asarray(zp).reshape(-1), axis)

    def bind_quant(self, name: str, quant: Quant) -> QType:
        """Attach the quantization an op declares for its input to that tensor, refusing a tensor
        that its producer and its consumer quantize differently."""
        qtype = self.graph.tensors[name]
        if qtype.quant is None:
            qtype = QType(qtype.dtype, qtype.shape, quant)
            self.graph.tensors[name] = qtype
        elif not qtype.quant.same_as(quant):
            raise self.unsupported(
                f"tensor '{name}' is quantized as {qtype.quant.describe()} where it is produced "
                f"but read as {quant.describe()}"
            )
        return qtype

    # -- output ----------------------------------------------------------------------------

    def emit(
        self,
        op: OpKind,
        inputs: list[str],
        attrs: OpAttrs,
        outputs: list[tuple[str, QType]],
    ) -> Node:
        node = Node(
            name=self.node.name,
            op=op,
            inputs=tuple(inputs),
            outputs=tuple(name for name, _ in outputs),
            attrs=attrs,
            origin=(self.node.name,),
        )
        for name, qtype in outputs:
            self.graph.tensors[name] = qtype
        self.graph.nodes.append(node)
        return node

    def fold_constant(self, value: npt.NDArray[np.generic]) -> None:
        """Record the output of a node whose inputs are all constants as a constant."""
        self.consts[self.node.output[0]] = value

    def output(self, index: int = 0) -> str:
        return str(self.node.output[index])
