/* Host layer descriptors: everything a kernel needs, computed by the compiler in Python and
 * emitted as constant tables. Tensors are NHWC (a matrix rows x features is H = rows, W = 1,
 * C = features); element types are int8, uint8 or float32. */
#ifndef HWGEN_LAYERS_H
#define HWGEN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DT_INT8 = 0, DT_UINT8 = 1, DT_FLOAT32 = 2, DT_INT32 = 3, DT_INT64 = 4 } dtype_t;

typedef struct {
    int32_t h, w, c;
    dtype_t dtype;
} tensor_shape_t;

/* Output rows are computed a tile at a time; a tile's input rows follow from the window. */
typedef struct {
    int32_t rows_per_tile;
    int32_t kernel_h, stride_h, pad_top, dilation_h;
} row_tiling_t;

typedef struct {
    tensor_shape_t in, out;
    const float *scale; /* per channel (or one) */
    const int32_t *zero_point;
    int32_t per_channel;
} quant_layer_t;

typedef struct {
    tensor_shape_t in, out;
    int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    /* average pooling only */
    int32_t count_include_pad;
    int32_t half_up; /* integer average pooling: Deeploy's rounding, else floor */
    float x_scale, y_scale;
    int32_t x_zero_point, y_zero_point;
} pool_layer_t;

typedef struct {
    tensor_shape_t in, out;
    float x_scale, y_scale;
    int32_t x_zero_point, y_zero_point;
} global_pool_layer_t;

typedef struct {
    tensor_shape_t a, b, out;
    float a_scale, b_scale, y_scale;
    int32_t a_zero_point, b_zero_point, y_zero_point;
} add_layer_t;

typedef struct {
    tensor_shape_t in, out;
    int32_t three, six, one_over_six;
} hardswish_layer_t;

typedef struct {
    tensor_shape_t in, out;
    const int32_t *table; /* the output for each input value, from the input type's lowest */
    int32_t qmin;
} lookup_layer_t;

typedef struct {
    int32_t out_dims[4];  /* output storage dims, outermost first */
    int32_t a_strides[4]; /* where each output element's row of A starts, per output dim */
    int32_t b_strides[4]; /* and its column of B */
    int32_t k, a_step, b_step; /* the dot product's length, and its steps in A and in B */
    dtype_t a_dtype, b_dtype;
} int_matmul_layer_t;

typedef struct {
    int32_t out_dims[4];            /* output storage dims, outermost first */
    int32_t a_strides[4], b_strides[4]; /* each operand's element stride per output dim */
    float ratio;                    /* f32(f32(a_scale * b_scale) / y_scale) */
    int32_t a_zero_point, b_zero_point, y_zero_point;
    dtype_t dtype;                  /* of both operands and the output */
} mul_layer_t;

/* Resize of an int8, uint8 or float32 image's H and W (upsample.h in onnxruntime). Per output index of
 * the two axes interpolated, (H, W) or (W, C) for LINEAR_FLOAT_WC: the two input indices it
 * reads and their weights d1, d2; d2 weighs the first. In the order of hwgen's ResizeKind. */
typedef enum {
    RESIZE_NEAREST = 0,
    RESIZE_LINEAR_FLOAT = 1,
    RESIZE_LINEAR_FIXED = 2,
    RESIZE_LINEAR_FLOAT_WC = 3
} resize_kind_t;
typedef struct {
    tensor_shape_t in, out;
    resize_kind_t kind;
    const int32_t *rows, *cols;          /* [out.h][2], [out.w][2] */
    const float *row_wf, *col_wf;        /* LINEAR_FLOAT, LINEAR_FLOAT_WC */
    const int32_t *row_wi, *col_wi;      /* LINEAR_FIXED: in 2^-10 steps */
} resize_layer_t;

/* NEMO/DORY's element-wise arithmetic, one ONNX op per step in the type onnxruntime computes
 * it in (hwgen's ArithKind, in its order). */
typedef enum {
    ARITH_MUL = 0,
    ARITH_ADD = 1,
    ARITH_SUB = 2,
    ARITH_DIV = 3,
    ARITH_FLOOR = 4,
    ARITH_CEIL = 5,
    ARITH_ROUND = 6,
    ARITH_CAST = 7,
    ARITH_CLIP = 8,
    ARITH_SIGMOID = 9
} arith_kind_t;
typedef struct {
    arith_kind_t kind;
    dtype_t container;     /* DT_FLOAT32, DT_INT32 or DT_INT64: the step's type (a cast's target) */
    int32_t count;         /* operand values: 0 (the second input), 1, one per channel, 2 (clip) */
    int32_t operand_first; /* c - x, c / x */
    const float *f;        /* the operand in a float32 step */
    const int64_t *i;      /* in an integer step */
} arith_step_t;
typedef struct {
    tensor_shape_t a, b, out; /* b.c == 0: one input */
    int32_t n_steps;
    const arith_step_t *steps;
} arith_layer_t;

/* onnxruntime's float Softmax / LogSoftmax over rows (MLAS's AVX512F kernels). */
typedef struct {
    int32_t rows, length, log;
    dtype_t dtype; /* of the input: float32, or int32 sums */
} float_softmax_layer_t;

typedef struct {
    int32_t rows, length; /* softmax over each row of a matrix */
    const float *table;   /* exp of each input value, shifted (QlinearBuildLookupTableUint32) */
    float scale;          /* floor(1 / y_scale) */
    int32_t y_zero_point;
    dtype_t dtype;
} softmax_layer_t;

typedef struct {
    tensor_shape_t a, out;
    const int32_t *addend; /* the whole output's, in its storage order */
} int_add_const_layer_t;

/* com.microsoft QLinearAdd of a runtime tensor and a constant (a bias after a matrix product):
 * the constant broadcast to the output, in its storage order; a or b as it was in the graph,
 * since the rule's fused multiply-adds treat a and b differently. */
typedef struct {
    tensor_shape_t x, out;
    const int32_t *constant;
    int32_t constant_is_a;
    float a_scale, b_scale, y_scale;
    int32_t a_zero_point, b_zero_point, y_zero_point;
} add_const_layer_t;

typedef struct {
    tensor_shape_t in, out;
    int32_t lower, upper;
} clamp_layer_t;

typedef struct {
    tensor_shape_t in, out;
    int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int32_t group;
    const int8_t *weights; /* O, KH, KW, C/group */
    const int32_t *bias;   /* O */
    int32_t x_zero_point;
    const int32_t *w_zero_point; /* O */
    const float *multiplier;     /* O */
    int32_t y_zero_point, lower, upper;
    /* Integer dialects: clamp((acc * mul + add) >> shift) instead of the float rule. */
    int32_t shift_mode, shift;
    const int32_t *mul, *add; /* O */
} conv_layer_t;

/* An integer dialect's RequantShift on its own: one mul and add for the tensor, per channel (the
 * last NHWC axis; per_channel 1) or per row of a matrix (per_channel 2, Deeploy's per-row GEMM
 * requantization). */
typedef struct {
    tensor_shape_t in, out;
    const int32_t *mul, *add;
    int32_t per_channel, shift, lower, upper;
} requant_shift_layer_t;

typedef struct {
    tensor_shape_t in, out;
} cast_layer_t;

typedef struct {
    tensor_shape_t in, out;
} flatten_layer_t;


/* Data movement, L2 to L2: concatenation of `n_inputs` tensors along one axis of their NHWC
 * storage (outer x chunk bytes per input), and a general 4-D permutation by source strides. */
typedef struct {
    int32_t n_inputs;
    int32_t outer;
    const int32_t *chunk_bytes; /* per input */
} concat_layer_t;

typedef struct {
    int32_t out_dims[4];    /* output storage dims, outermost first */
    int32_t src_strides[4]; /* element stride in the input for each output dim (may be < 0) */
    int32_t src_offset;     /* the input element of the first output element */
    int32_t elem_bytes;
} permute_layer_t;

typedef struct {
    int32_t out_dims[4];    /* output storage dims, outermost first */
    int32_t src_strides[4]; /* where each output element's box starts, per output dim */
    int32_t red_dims[4];    /* the box */
    int32_t red_strides[4];
    int32_t count;          /* elements in the box */
    int32_t mean;           /* 0: the sum; 1: the mean, rounded as Deeploy rounds it */
    dtype_t in_dtype, out_dtype;
} reduce_layer_t;

typedef struct {
    tensor_shape_t in, out;
    int32_t top, left, front; /* rows, columns, channels of padding before the data */
    int32_t value;
} pad_layer_t;

/* Each output pixel's window, tap by tap (ky, kx), each tap's in.c channels: out.c is
 * kernel_h * kernel_w * in.c. A tap in the padding takes pad_value. One-byte elements. */
typedef struct {
    tensor_shape_t in, out;
    int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int32_t pad_value;
} im2col_layer_t;

#endif
