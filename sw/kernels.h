/* int8 NHWC host kernels with the exact semantics of sim_models (onnxruntime's rules). Each
 * computes output rows [out_row0, out_row0 + out_rows) from input rows starting at in_row0,
 * both held in L1. Compile with -ffp-contract=off: only fmaf may fuse. */
#ifndef HWGEN_KERNELS_H
#define HWGEN_KERNELS_H

#include <stdint.h>

#include "layers.h"

size_t dtype_size(dtype_t dtype);

void kernel_quantize(const quant_layer_t *l, const void *in, void *out, int32_t rows);
void kernel_dequantize(const quant_layer_t *l, const void *in, void *out, int32_t rows);
void kernel_maxpool(const pool_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                    void *out, int32_t out_row0, int32_t out_rows);
void kernel_avgpool(const pool_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                    void *out, int32_t out_row0, int32_t out_rows);
void kernel_int_avgpool(const pool_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                        void *out, int32_t out_row0, int32_t out_rows);
void kernel_global_avgpool_accumulate(const global_pool_layer_t *l, const void *in, int32_t rows,
                                      int32_t *sums);
void kernel_global_avgpool_finish(const global_pool_layer_t *l, const int32_t *sums, void *out);
void kernel_add(const add_layer_t *l, const void *a, const void *b, void *out, int32_t rows);
void kernel_clamp(const clamp_layer_t *l, const void *in, void *out, int32_t rows);
void kernel_conv(const conv_layer_t *l, const void *in, int32_t in_row0, int32_t in_rows,
                 void *out, int32_t out_row0, int32_t out_rows);
void flatten_nhwc_to_nchw(const flatten_layer_t *l, const void *in, void *out);
void kernel_int_add(const add_layer_t *l, const void *a, const void *b, void *out, int32_t rows);
void kernel_requant_shift(const requant_shift_layer_t *l, const void *in, void *out, int32_t row0,
                          int32_t rows);
void kernel_cast(const cast_layer_t *l, const void *in, void *out, int32_t rows);
void concat_copy(const concat_layer_t *l, const uint8_t *const *in, uint8_t *out);
void permute_copy(const permute_layer_t *l, const uint8_t *in, uint8_t *out);
void int_matmul(const int_matmul_layer_t *l, const void *a, const void *b, void *out);
void qlinear_mul(const mul_layer_t *l, const void *a, const void *b, void *out);
void qlinear_softmax(const softmax_layer_t *l, const void *in, void *out);
void arith_chain(const arith_layer_t *l, const void *a, const void *b, void *out);
void float_softmax(const float_softmax_layer_t *l, const void *in, float *out);
void resize_image(const resize_layer_t *l, const void *in, void *out);
void reduce_sum_mean(const reduce_layer_t *l, const void *in, void *out);
void pad_copy(const pad_layer_t *l, const void *in, void *out);
void im2col_copy(const im2col_layer_t *l, const uint8_t *in, uint8_t *out);

/* The kernels as row_kernel_fn for the tile engine (tiling.h): `layer` is the kernel's own
 * descriptor. */
void rows_quantize(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                   uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_dequantize(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                     uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_maxpool(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                  uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_avgpool(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                  uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_int_avgpool(const void *layer, const uint8_t *const *in, int32_t in_row0,
                      int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_add(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
              uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_clamp(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_lookup(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                 uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_int_hardswish(const void *layer, const uint8_t *const *in, int32_t in_row0,
                        int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_add_const(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                    uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_int_add_const(const void *layer, const uint8_t *const *in, int32_t in_row0,
                        int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_int_add(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
                  uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_requant_shift(const void *layer, const uint8_t *const *in, int32_t in_row0,
                        int32_t in_rows, uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_cast(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
               uint8_t *out, int32_t out_row0, int32_t out_rows);
void rows_conv(const void *layer, const uint8_t *const *in, int32_t in_row0, int32_t in_rows,
               uint8_t *out, int32_t out_row0, int32_t out_rows);

#endif
