"""Element-wise functions of an 8-bit tensor as tables of its 256 values, computed by
onnxruntime itself: the node (or QDQ group) run alone on every value its input can hold.

An element-wise op's output depends on its input value only, so the table is onnxruntime's
result for any tensor, wherever onnxruntime runs the op as it runs it alone. (In a whole QDQ
graph it may fuse a group that it runs unfused alone, or the reverse: then an LSB apart.)"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

from hwgen.ir.types import DType
from hwgen.oracle import onnxruntime_outputs

X, Y = "table.x", "table.y"


def onnxruntime_table(
    nodes: list[onnx.NodeProto],
    source: str,
    result: str,
    constants: dict[str, npt.NDArray[np.generic]],
    x: DType,
    y: DType,
    opsets: list[onnx.OperatorSetIdProto],
) -> npt.NDArray[np.int32]:
    """The output `result` of `nodes` for each value of type `x` fed to their input `source`."""
    renamed = []
    for node in nodes:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.input[:] = [X if name == source else name for name in copy.input]
        copy.output[:] = [Y if name == result else name for name in copy.output]
        renamed.append(copy)
    used = {name for node in renamed for name in node.input}
    graph = helper.make_graph(
        renamed,
        "table",
        [helper.make_tensor_value_info(X, helper.np_dtype_to_tensor_dtype(x.numpy), [256])],
        [helper.make_tensor_value_info(Y, helper.np_dtype_to_tensor_dtype(y.numpy), [256])],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items() if k in used],
    )
    model = helper.make_model(graph, opset_imports=list(opsets))
    model.ir_version = 8
    values = np.arange(x.qmin, x.qmax + 1).astype(x.numpy)
    return onnxruntime_outputs(model, {X: values})[Y].astype(np.int32)
