"""The integer ops of the IR and their typed attributes.

Every attribute a backend needs is computed here once, at lowering time (the requant multiplier
above all), so the golden model, the host C and the NPU read one value instead of re-deriving it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hwgen.ir.geometry import Conv2dGeometry
from hwgen.ir.types import DType


class OpKind(enum.Enum):
    QUANTIZE = "quantize"
    DEQUANTIZE = "dequantize"
    CONV = "conv"
    MATMUL = "matmul"
    ADD = "add"
    AVGPOOL = "avgpool"
    GLOBAL_AVGPOOL = "global_avgpool"
    MAXPOOL = "maxpool"
    CLAMP = "clamp"
    RESHAPE = "reshape"
    TRANSPOSE = "transpose"
    SLICE = "slice"  # Slice and each output of Split: a strided box of the input
    CONCAT = "concat"
    PAD = "pad"
    # A convolution's windows as pixels of channels (ky, kx, c): a few input channels, which the
    # NPU would pad to a block of M at every tap, packed into blocks once (passes/unfold_stem).
    IM2COL = "im2col"
    # Integer-only dialects (Deeploy, NEMO/DORY).
    CAST = "cast"  # integer values in a float32 container <-> an integer tensor, exactly
    INT_ADD = "int_add"  # exact sum of two integer tensors, as int32
    REQUANT_SHIFT = "requant_shift"  # clamp((x * mul + add) >> shift), per channel
    INT_AVGPOOL = "int_avgpool"  # the window's exact sum divided by its count, rounded
    INT_REDUCE = "int_reduce"  # ReduceSum / ReduceMean over axes, Deeploy's rounding
    INT_MATMUL = "int_matmul"  # two runtime integer tensors, batched, to int32
    INT_HARDSWISH = "int_hardswish"  # Deeploy's iHardswish: x * clamp(x + 3, 0, 6) * (1/6)
    # An 8-bit tensor through a table of its 256 values: requantization (QLinearConcat) and
    # element-wise functions (QLinearSigmoid, DQ -> HardSwish -> Q, ...), as onnxruntime's
    # lookup-table kernels compute them.
    LOOKUP = "lookup"
    # Each output element one of the input's, by a table: a chain of reshapes and transposes
    # through tensors of more than four axes (ShuffleNet's channel shuffle), collapsed.
    GATHER = "gather"
    # com.microsoft QLinearSoftmax over the last axis, as onnxruntime's kernel computes it.
    SOFTMAX = "softmax"
    # com.microsoft QLinearMul, NumPy broadcasting (squeeze-excite's [N, C, 1, 1] gates).
    MUL = "mul"
    # Resize of an NCHW image's H and W, nearest or linear, as onnxruntime's kernels compute it.
    RESIZE = "resize"
    # NEMO/DORY's element-wise arithmetic on integer values in float32 or int64 tensors (Mul,
    # Add, Div, Floor, Cast, Clip, ...), replayed step by step in the types onnxruntime uses.
    ARITH = "arith"
    # A float Softmax or LogSoftmax over the last axis (a NEMO head), as onnxruntime's MLAS
    # kernel computes it.
    FLOAT_SOFTMAX = "float_softmax"


class OutputMode(enum.Enum):
    """What a conv or matmul does with its int32 accumulator."""

    INT32 = "int32"  # ConvInteger / MatMulInteger: the accumulator is the output
    REQUANT = "requant"  # QLinear*: onnxruntime's float32 requantization to int8/uint8
    FLOAT = "float"  # QGemm without y_scale: f32(acc) * multiplier
    SHIFT = "shift"  # integer dialects: clamp((acc * mul + add) >> shift), per channel


@dataclass(frozen=True, eq=False)
class ShiftRequantAttrs:
    """Deeploy's RequantShift (and NEMO's Mul-Add-Div-Floor-Clip): clamp(floor((x * mul +
    add) / 2^shift)) to [lower, upper]; `mul` and `add` per tensor or along `axis`. Deeploy's
    rounding (div / 2) is already in `add`."""

    mul: npt.NDArray[np.int64]
    add: npt.NDArray[np.int64]
    shift: int
    lower: int
    upper: int
    axis: int = 1


@dataclass(frozen=True, eq=False)
class Requant:
    """Output stage of a conv or matmul. `multiplier` holds one float32 per output channel (or
    one for the tensor): f32(f32(xs * ws[c]) / ys), computed at lowering."""

    mode: OutputMode
    multiplier: npt.NDArray[np.float32]
    zero_point: int = 0
    dtype: DType = DType.INT32
    # A fused ReLU / Clip: bounds on the stored output value, inside the dtype's range.
    clamp: tuple[int, int] | None = None
    # SHIFT mode: the fused RequantShift (its own bounds include any fused clamp).
    shift: ShiftRequantAttrs | None = None


@dataclass(frozen=True, eq=False)
class LinearAttrs:
    """Shared by conv and matmul: zero points subtracted before the exact int32 product."""

    x_zero_point: int
    w_zero_point: npt.NDArray[np.int32]  # per tensor (size 1) or per output channel
    output: Requant


@dataclass(frozen=True, eq=False)
class ConvAttrs(LinearAttrs):
    geometry: Conv2dGeometry
    group: int = 1


@dataclass(frozen=True, eq=False)
class MatMulAttrs(LinearAttrs):
    trans_a: bool = False
    trans_b: bool = False


@dataclass(frozen=True)
class PoolAttrs:
    geometry: Conv2dGeometry
    count_include_pad: bool = False


class PoolRounding(enum.Enum):
    """How an integer average pool turns sum / count into an integer."""

    FLOOR = "floor"  # NEMO/DORY: Floor after the float AveragePool, i.e. floor(sum / count)
    HALF_UP = "half_up"  # Deeploy's kernel: (sum + count / 2) / count in C (truncating)


@dataclass(frozen=True)
class IntPoolAttrs:
    geometry: Conv2dGeometry
    count_include_pad: bool
    rounding: PoolRounding


@dataclass(frozen=True)
class GlobalPoolAttrs:
    channels_last: bool = False


@dataclass(frozen=True)
class ClampAttrs:
    lower: int
    upper: int


@dataclass(frozen=True)
class TransposeAttrs:
    perm: tuple[int, ...]


@dataclass(frozen=True)
class SliceAttrs:
    # Per axis of the input: the first index, how many, and the step between them (negative
    # steps walk backwards). Normalised from ONNX's starts/ends/axes/steps at lowering.
    ranges: tuple[tuple[int, int, int], ...]

    def indices(self, axis: int) -> range:
        start, count, step = self.ranges[axis]
        return range(start, start + count * step, step)


@dataclass(frozen=True)
class IntReduceAttrs:
    axes: tuple[int, ...]  # sorted, non-negative
    keepdims: bool
    mean: bool  # the sum divided by the count, rounded half away from zero; else the sum


@dataclass(frozen=True)
class IntHardswishAttrs:
    """Deeploy's iHardswish in its own fixed point: three and six on the input's scale, and
    one_over_six the integer that stands for 1/6."""

    three: int
    six: int
    one_over_six: int


@dataclass(frozen=True, eq=False)
class LookupAttrs:
    """`table[v - qmin]` is the output for the input value v (qmin of the input's type)."""

    table: npt.NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class GatherAttrs:
    """Output element i (in logical, row-major order) is the input's element `source[i]`."""

    source: npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SoftmaxAttrs:
    """QLinearSoftmax (contrib_ops/cpu/quantization/qlinear_softmax.cc): `table` holds
    exp((i - 255 + shift) * x_scale) for the 256 input values (indexed as the kernel indexes
    it), the row's values are shifted so that its largest reads entry 255, summed in float32 in
    order, and each output is rne(f32(table * scale) / sum) + zp, scale = floor(1 / y_scale),
    saturated to the type's largest value."""

    table: npt.NDArray[np.float32]
    scale: float
    y_zero_point: int


class ArithKind(enum.Enum):
    """One ONNX element-wise op of an ARITH chain."""

    MUL = "mul"
    ADD = "add"
    SUB = "sub"
    DIV = "div"  # float32: IEEE division; int64: C's, truncated toward zero
    FLOOR = "floor"
    CEIL = "ceil"
    ROUND = "round"  # half to even, as ONNX Round
    CAST = "cast"  # to `container`: float to integer truncates, integer to float rounds
    CLIP = "clip"  # operand (lower, upper)
    SIGMOID = "sigmoid"  # onnxruntime's float Sigmoid (sim_models/fp.py: MLAS's logistic)


@dataclass(frozen=True, eq=False)
class ArithStep:
    """`kind` computed in `container` (float32 or int64: the ONNX tensor's type; a CAST's
    target). The operand is a constant (a scalar, or one value per channel along axis 1), or
    None where the step takes the node's second input; `operand_first` for c - x and c / x."""

    kind: ArithKind
    container: DType
    operand: npt.NDArray[np.generic] | None = None
    operand_first: bool = False


@dataclass(frozen=True, eq=False)
class ArithAttrs:
    """Steps applied in order to the first input (a step without operand takes the second)."""

    steps: tuple[ArithStep, ...]


@dataclass(frozen=True)
class FloatSoftmaxAttrs:
    log: bool  # LogSoftmax: x - max - log(sum of exp); else exp / sum


class ResizeKind(enum.Enum):
    """Which of onnxruntime's kernels an 8-bit Resize runs: its result differs between them."""

    NEAREST = "nearest"  # each output pixel one input pixel
    # Linear on an NCHW tensor (upsample.h, UpsampleBilinear): float32 weights per axis,
    # trunc(w11 * x11 + w21 * x21 + w12 * x12 + w22 * x22), each w = dx * dy, summed in order.
    LINEAR_FLOAT = "linear_float"
    # Linear where onnxruntime runs the Resize channels-last (NhwcUpsampleBilinearInteger):
    # weights in 2^-10 steps per axis, the integer sum divided by 2^20, truncated toward zero.
    LINEAR_FIXED = "linear_fixed"
    # Channels-last with H unchanged: onnxruntime takes the NHWC tensor for an NCHW one and runs
    # the float kernel over (W, C), C at scale 1. Rounding then differs from LINEAR_FLOAT.
    LINEAR_FLOAT_WC = "linear_float_wc"


@dataclass(frozen=True, eq=False)
class ResizeAttrs:
    """Per output index of the two axes the kernel interpolates ((H, W), or (W, C) for
    LINEAR_FLOAT_WC): the two input indices it reads, and their weights (d1, d2) as
    onnxruntime's setup computes them; d1 weighs the second, d2 the first. Nearest reads the
    first only."""

    kind: ResizeKind
    rows: npt.NDArray[np.int32]  # [out extent of the first axis, 2]
    cols: npt.NDArray[np.int32]  # [out extent of the second axis, 2]
    row_weights: npt.NDArray[np.generic]  # [out_h, 2], float32 or int32 (by kind)
    col_weights: npt.NDArray[np.generic]


@dataclass(frozen=True)
class MulAttrs:
    """QLinearMul as onnxruntime's x86 kernel (MLAS qlmul.cpp, SSE2) computes it: the exact
    product of the zero-point-free operands, times `ratio` = f32(f32(sa * sb) / sc), plus
    f32(zc), each step rounded to float32; to int32 by round half to even (INT32_MIN where
    it does not fit), then saturated."""

    ratio: float
    a_zero_point: int
    b_zero_point: int
    y_zero_point: int


@dataclass(frozen=True)
class ConcatAttrs:
    axis: int


@dataclass(frozen=True)
class PadAttrs:
    pads: tuple[int, ...]  # ONNX order: all begins, then all ends
    value: int | float


@dataclass(frozen=True)
class Im2ColAttrs:
    """Output (N, kh * kw * C, OH, OW): channel (ky * kw + kx) * C + c of output pixel (oy, ox)
    is input channel c at the tap (ky, kx) of the window `geometry` places there, `pad_value`
    where that tap lies in the padding."""

    geometry: Conv2dGeometry
    pad_value: int


@dataclass(frozen=True)
class NoAttrs:
    pass


OpAttrs = (
    ConvAttrs
    | MatMulAttrs
    | PoolAttrs
    | IntPoolAttrs
    | GlobalPoolAttrs
    | ClampAttrs
    | TransposeAttrs
    | SliceAttrs
    | IntReduceAttrs
    | IntHardswishAttrs
    | LookupAttrs
    | MulAttrs
    | ResizeAttrs
    | ArithAttrs
    | FloatSoftmaxAttrs
    | SoftmaxAttrs
    | GatherAttrs
    | ConcatAttrs
    | PadAttrs
    | Im2ColAttrs
    | ShiftRequantAttrs
    | NoAttrs
)
